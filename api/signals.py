"""Signals over HTTP: the suggested incidents that listening detected, confirmed or dismissed by a person.

Confirming declares the incident through the same path as ``POST /incidents`` (plan pinned, the
team paged) with the Idempotency-Key ``signal:<id>``, so a double confirmation, or a confirmation
racing a topic that declares directly, opens one incident.
"""

from datetime import datetime, timezone
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.auth import Declarer, Scope, require_scope
from api.deps import CatalogDep, ClientDep, SessionDep, SettingsDep
from api.pages import people_names, templates, wants_html
from domain.actions import PersonId
from domain.safe_text import OneLine, long_text
from services.declare import Confirmation, DeclarationRefused, DeclaredIncident, SignalStatus, declare_from_signal
from store import mentions as store

router = APIRouter(prefix="/signals", tags=["listening"])

SignalId = Annotated[str, Path(max_length=150, pattern=r"^[A-Za-z0-9_.:-]+$")]


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


class Dismissal(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    person: OneLine = PersonId
    reason: long_text(max_length=2000) | None = Field(None, description="Why it is not a crisis (kept with the signal).")


class ConfirmedSignal(BaseModel):
    signal: SignalOut
    incident: DeclaredIncident


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
        return templates.TemplateResponse(
            request, "signal_list.html", {"signals": signals, "status": status and status.value, "topic": topic}
        )
    return signals


async def _signal(session, signal_id: str):
    row = await store.get_signal(session, signal_id)
    if row is None:
        raise HTTPException(404, f"signal '{signal_id}' does not exist")
    return row


@router.get(
    "/{signal_id}",
    response_model=SignalOut,
    responses={200: {"content": {"text/html": {}}}, 404: {"description": "No such signal"}},
)
async def get_signal(signal_id: SignalId, request: Request, session: SessionDep, catalog: CatalogDep) -> SignalOut:
    signal = signal_out(await _signal(session, signal_id))
    if wants_html(request):
        return templates.TemplateResponse(request, "signal.html", {"signal": signal, "names": people_names(catalog)})
    return signal


@router.post(
    "/{signal_id}/confirm",
    response_model=ConfirmedSignal,
    responses={
        404: {"description": "No such signal"},
        409: {"description": "Dismissed already"},
        422: {"description": "Unknown person or playbook"},
    },
)
async def confirm(
    signal_id: SignalId,
    body: Confirmation,
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    catalog: CatalogDep,
    caller: Declarer,
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
    responses={
        404: {"description": "No such signal"},
        409: {"description": "Confirmed or declared already"},
        422: {"description": "Unknown person"},
    },
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
    if not await store.decide_signal(
        session, signal_id, SignalStatus.DISMISSED.value, body.person, datetime.now(timezone.utc), note=body.reason
    ):
        await session.refresh(signal)
        raise HTTPException(409, f"signal '{signal_id}' is {signal.status} already")
    await session.refresh(signal)
    return signal_out(signal)


@router.post("/{signal_id}/decide", include_in_schema=False, dependencies=[require_scope(Scope.DECLARE)])
async def decide_on_the_dashboard(
    signal_id: SignalId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    catalog: CatalogDep,
    caller: Declarer,
) -> HTMLResponse:
    """The dashboard's form (a signed-in browser, no script): confirm goes on to the declared
    incident's page, dismiss back to the dashboard; a refusal is a page that says why."""
    form = {key: values[0] for key, values in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    decision = form.get("decision")
    try:
        if decision == "confirm":
            confirmed = await confirm(
                signal_id,
                Confirmation(person=form.get("person", ""), headline=form.get("headline", "")),
                session,
                settings,
                client,
                catalog,
                caller,
            )
            return RedirectResponse(f"/incidents/{confirmed.incident.id}/view", status_code=303)
        if decision == "dismiss":
            await dismiss(
                signal_id, Dismissal(person=form.get("person", ""), reason=form.get("reason") or None), session, catalog
            )
            return RedirectResponse("/", status_code=303)
        problem, status = "decision: choose Confirm or Dismiss", 422
    except ValidationError as invalid:
        error = invalid.errors()[0]
        problem, status = f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}", 422
    except HTTPException as refused:
        problem, status = refused.detail, refused.status_code
    return templates.TemplateResponse(
        request,
        "action.html",
        {"heading": "Nothing was decided", "message": f"{problem}. Go back to the dashboard and try again."},
        status_code=status,
    )
