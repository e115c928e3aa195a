"""Signals over HTTP: the suggested incidents that listening detected, confirmed or dismissed by a person.

Confirming declares the incident through the same path as ``POST /incidents`` (plan pinned, the
team paged) with the Idempotency-Key ``signal:<id>``, so a double confirmation, or a confirmation
racing a topic that declares directly, opens one incident.
"""

from datetime import datetime, timezone
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from activities.listening import origin
from api.auth import Declarer, Scope, require_scope
from api.deps import CatalogDep, ClientDep, SessionDep, SettingsDep
from api.incidents import Declaration, DeclarationRefused, DeclaredIncident, declare_incident
from api.pages import people_names, templates, wants_html
from domain.actions import PersonId
from domain.factsheet import FactSheetFields
from domain.safe_text import OneLine, long_text, one_line
from domain.severity import Severity
from store import mentions as store

router = APIRouter(prefix="/signals", tags=["listening"])

SignalId = Annotated[str, Path(max_length=150, pattern=r"^[A-Za-z0-9_.:-]+$")]


class SignalStatus(StrEnum):
    SUGGESTED = "suggested"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"
    DECLARED = "declared"
    RAISED = "raised"  # a surge of negative replies to an incident's own posts: tied to it, nothing to declare


class SignalOut(BaseModel):
    id: str
    topic: str
    status: SignalStatus
    reasons: list[str]
    playbook: str
    title: str
    summary: str
    bucket_start: datetime
    first_mention_at: datetime
    stream_time: datetime
    detected_at: datetime
    evidence: dict[str, Any]
    incident_id: str | None
    decided_by: str | None
    decided_at: datetime | None
    note: str | None
    links: dict[str, str]


def signal_out(row) -> SignalOut:
    links = {"self": f"/signals/{row.id}"}
    if row.incident_id:
        links["incident"] = f"/incidents/{row.incident_id}/view"
    return SignalOut(**{name: getattr(row, name) for name in SignalOut.model_fields if name != "links"}, links=links)


class Confirmation(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    person: OneLine = PersonId
    severity: Severity | None = Field(None, description="Defaults to the topic's, then the playbook's.")
    playbook: one_line(max_length=100) | None = Field(None, description="Declare with another playbook than the one suggested.")
    headline: OneLine = Field(
        min_length=1, max_length=100,
        description="The public headline of the incident, in the audience's words: the detection's title and numbers are internal and never published.",
    )
    title: one_line(min_length=1, max_length=200) | None = Field(None, description="Internal title; defaults to the detection's.")
    summary: long_text(min_length=1, max_length=5000) | None = Field(None, description="Internal summary; defaults to the detection's.")
    drill: bool = False


class Dismissal(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    person: OneLine = PersonId
    reason: long_text(max_length=2000) | None = Field(None, description="Why it is not a crisis (kept with the signal).")


class ConfirmedSignal(BaseModel):
    signal: SignalOut
    incident: DeclaredIncident


def idempotency_key(signal_id: str) -> str:
    return f"signal:{signal_id}"


MAX_VIA = 120  # timeline_events.via


def declared_by_topic(topic: str, ingest_keys: list[str]) -> str:
    """Who declared when a topic declares by itself: the topic, and the API keys whose mentions made
    the surge (all of them are also in the incident's ``detection.ingested_by``)."""
    if not ingest_keys:
        return f"topic {topic}"
    named = f"topic {topic}, mentions from API key{'s' if len(ingest_keys) > 1 else ''} {', '.join(ingest_keys)}"
    if len(named) <= MAX_VIA:
        return named
    return f"topic {topic}, mentions from {len(ingest_keys)} API keys"[:MAX_VIA]


async def declare_from_signal(
    settings, client, catalog, session, signal, confirmation: Confirmation | None = None, via: str | None = None
) -> DeclaredIncident:
    """Declare the signal's incident and mark the signal confirmed (by a person, through ``via``) or
    declared (by its topic). Safe to repeat: the incident id comes from the signal id."""
    topic = next((item for item in catalog.topics if item.id == signal.topic), None)
    declaration = Declaration(
        playbook=(confirmation and confirmation.playbook) or signal.playbook,
        title=(confirmation and confirmation.title) or signal.title,
        summary=(confirmation and confirmation.summary) or signal.summary,
        severity=(confirmation and confirmation.severity) or (topic.severity if topic else None),
        drill=bool(confirmation and confirmation.drill),
        declared_by=confirmation.person if confirmation else None,
        fact_sheet=FactSheetFields(headline=confirmation.headline) if confirmation else None,
    )
    fed_by = await store.ingest_keys(session, signal.topic, signal.first_mention_at, signal.stream_time)
    incident, _created = await declare_incident(
        settings, client, catalog, declaration, idempotency_key(signal.id), origin(signal, fed_by), via=via or declared_by_topic(signal.topic, fed_by)
    )
    status = SignalStatus.CONFIRMED if confirmation else SignalStatus.DECLARED
    await store.decide_signal(session, signal.id, status.value, confirmation and confirmation.person, datetime.now(timezone.utc), incident.id)
    return incident


@router.get("", response_model=list[SignalOut], responses={200: {"content": {"text/html": {}}}})
async def list_signals(
    request: Request,
    session: SessionDep,
    status: SignalStatus | None = None,
    topic: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[SignalOut]:
    """Detections, newest first; ``status=suggested`` is what waits on a person. A browser
    (``Accept: text/html``) gets them as a page."""
    signals = [signal_out(row) for row in await store.list_signals(session, status and status.value, topic, limit)]
    if wants_html(request):
        return templates.TemplateResponse(request, "signal_list.html", {"signals": signals, "status": status and status.value, "topic": topic})
    return signals


async def _signal(session, signal_id: str):
    row = await store.get_signal(session, signal_id)
    if row is None:
        raise HTTPException(404, f"signal '{signal_id}' does not exist")
    return row


@router.get("/{signal_id}", response_model=SignalOut, responses={200: {"content": {"text/html": {}}}, 404: {"description": "No such signal"}})
async def get_signal(signal_id: SignalId, request: Request, session: SessionDep, catalog: CatalogDep) -> SignalOut:
    signal = signal_out(await _signal(session, signal_id))
    if wants_html(request):
        return templates.TemplateResponse(request, "signal.html", {"signal": signal, "names": people_names(catalog)})
    return signal


@router.post(
    "/{signal_id}/confirm",
    response_model=ConfirmedSignal,
    responses={404: {"description": "No such signal"}, 409: {"description": "Dismissed already"}, 422: {"description": "Unknown person or playbook"}},
)
async def confirm(
    signal_id: SignalId, body: Confirmation, session: SessionDep, settings: SettingsDep, client: ClientDep, catalog: CatalogDep, caller: Declarer
) -> ConfirmedSignal:
    """It is a crisis: declare the suggested incident (the team is paged). Confirming again answers
    with the same incident."""
    signal = await _signal(session, signal_id)
    if signal.status == SignalStatus.DISMISSED:
        raise HTTPException(409, f"signal '{signal_id}' was dismissed by {signal.decided_by}")
    if not catalog.roster.person(body.person):
        raise HTTPException(422, f"person: '{body.person}' is not in the team roster")
    try:
        incident = await declare_from_signal(settings, client, catalog, session, signal, body, via=caller.via)
    except DeclarationRefused as refused:
        raise HTTPException(422, str(refused)) from None
    await session.refresh(signal)
    return ConfirmedSignal(signal=signal_out(signal), incident=incident)


@router.post(
    "/{signal_id}/dismiss",
    response_model=SignalOut,
    dependencies=[require_scope(Scope.DECLARE)],
    responses={404: {"description": "No such signal"}, 409: {"description": "Confirmed or declared already"}, 422: {"description": "Unknown person"}},
)
async def dismiss(signal_id: SignalId, body: Dismissal, session: SessionDep, catalog: CatalogDep) -> SignalOut:
    """Not a crisis: the signal is closed with who said so and why. The topic's suppression window
    still holds, so the same surge does not come back."""
    signal = await _signal(session, signal_id)
    if not catalog.roster.person(body.person):
        raise HTTPException(422, f"person: '{body.person}' is not in the team roster")
    if signal.status == SignalStatus.DISMISSED:
        return signal_out(signal)
    if signal.status != SignalStatus.SUGGESTED:
        raise HTTPException(409, f"signal '{signal_id}' is {signal.status} already (incident {signal.incident_id})")
    if not await store.decide_signal(session, signal_id, SignalStatus.DISMISSED.value, body.person, datetime.now(timezone.utc), note=body.reason):
        await session.refresh(signal)
        raise HTTPException(409, f"signal '{signal_id}' is {signal.status} already")
    await session.refresh(signal)
    return signal_out(signal)


@router.post("/{signal_id}/decide", include_in_schema=False, dependencies=[require_scope(Scope.DECLARE)])
async def decide_on_the_dashboard(
    signal_id: SignalId, request: Request, session: SessionDep, settings: SettingsDep, client: ClientDep, catalog: CatalogDep, caller: Declarer
) -> HTMLResponse:
    """The dashboard's form (a signed-in browser, no script): confirm goes on to the declared
    incident's page, dismiss back to the dashboard; a refusal is a page that says why."""
    form = {key: values[0] for key, values in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    decision = form.get("decision")
    try:
        if decision == "confirm":
            confirmed = await confirm(signal_id, Confirmation(person=form.get("person", ""), headline=form.get("headline", "")), session, settings, client, catalog, caller)
            return RedirectResponse(f"/incidents/{confirmed.incident.id}/view", status_code=303)
        if decision == "dismiss":
            await dismiss(signal_id, Dismissal(person=form.get("person", ""), reason=form.get("reason") or None), session, catalog)
            return RedirectResponse("/", status_code=303)
        problem, status = "decision: choose Confirm or Dismiss", 422
    except ValidationError as invalid:
        error = invalid.errors()[0]
        problem, status = f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}", 422
    except HTTPException as refused:
        problem, status = refused.detail, refused.status_code
    return templates.TemplateResponse(
        request, "action.html", {"heading": "Nothing was decided", "message": f"{problem}. Go back to the dashboard and try again."},
        status_code=status,
    )
