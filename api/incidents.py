"""Incidents over HTTP: declare, list, read, and every human action (each one a workflow Update)."""

import json
import logging
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import InterfaceError, OperationalError

from activities.models import IncidentSummary
from api.auth import Declarer, Responder
from api.deps import CatalogDep, ClientDep, SessionDep, SettingsDep
from api.held_views import HeldViews
from api.ratelimit import TOO_MANY, RateLimited
from domain.actions import (
    Acknowledge,
    Action,
    Assessment,
    DecideStatement,
    FactSheetEdit,
    Reassessment,
    Resolution,
    ReviewSubmission,
    StatementDecision,
    StatementDraft,
    StatementPreview,
    TaskCompletion,
    TaskDone,
)
from domain.incident import IncidentView, Phase, StatementVersion
from domain.playbook import Scenario
from domain.preview import DraftPreview
from domain.safe_text import EMAIL_PATTERN, one_line
from services.declare import Declaration, DeclarationRefused, DeclaredIncident, IncidentLinks, declare_incident, incident_links
from services.temporal import (
    ActionRefused,
    IncidentNotFound,
    act,
    query_preview,
    query_state,
)
from store import service
from workflows.incident import IncidentWorkflow

log = logging.getLogger(__name__)
router = APIRouter(prefix="/incidents", tags=["incidents"])
HELD_VIEWS = HeldViews()  # this process's last copy of each incident's view, for the answers of actions

IncidentId = Annotated[
    str, Path(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$", description="Incident id, like inc-6ab9f1eb8f7d3388.")
]
TaskId = Annotated[str, Path(max_length=100)]

REFUSALS = {
    404: {"description": "No such incident"},
    409: {"description": "The action does not fit the incident now (wrong phase, already done, closed)"},
    422: {"description": "The request names a field, person, task or version that is not valid here"},
}


class Status(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ReplySurgeLink(BaseModel):
    signal: str
    summary: str
    link: str


class LatestReply(BaseModel):
    platform: str
    author: str | None = None
    text: str
    url: str | None = None
    at: datetime
    negative: bool | None = None


class StatementReplies(BaseModel):
    """What a published statement's posts drew on the social networks (read every few minutes)."""

    version: int
    replies: int
    scored: int
    negative: int
    negative_share: float | None = None
    surge: ReplySurgeLink | None = Field(None, description="The signal a surge of negative replies raised.")
    latest: list[LatestReply] = Field(default_factory=list)


class StatementWithReplies(StatementVersion):
    replies: StatementReplies | None = None


class IncidentDetail(IncidentView):
    """An incident as its workflow holds it now, with ``pending`` (everything waiting on a person)
    and its links; on ``GET /incidents/{id}`` each published statement has the replies it drew."""

    statements: list[StatementWithReplies] = Field(default_factory=list)
    links: IncidentLinks


class ActionResult(IncidentView):
    """The incident after an action, and what the action did."""

    links: IncidentLinks

    changes: list[str] = Field(description="The timeline messages the action wrote, in order.")


class IncidentListItem(IncidentSummary):
    """The read model's row: as fresh as the last projection (``projected_seq`` timeline events)."""

    links: IncidentLinks


def describe_links(app) -> None:
    """OpenAPI links from a declaration to every operation on its incident, so that clients and
    generated tests (schemathesis) can follow an incident from its declaration."""
    describe = app.openapi

    def openapi() -> dict:
        schema = describe()
        declared = schema["paths"]["/incidents"]["post"]["responses"]["201"]
        declared["links"] = {
            operation["operationId"]: {"operationId": operation["operationId"], "parameters": {"incident": "$response.body#/id"}}
            for path, operations in schema["paths"].items()
            if "{incident}" in path
            for operation in operations.values()
        }
        return schema

    app.openapi = openapi


def _refuse(error: Exception) -> HTTPException:
    if isinstance(error, IncidentNotFound):
        return HTTPException(404, f"incident '{error}' does not exist")
    return HTTPException(error.status, error.message)


def api_idempotency_key(caller_name: str, key: str | None) -> str | None:
    """A caller's Idempotency-Key, scoped to its API key: two keys (two tools, two teams) using the
    same string get two incidents, and no caller can reach a signal's incident (``signal:<id>``)."""
    return f"api-key:{caller_name}:{key}" if key else None


@router.post(
    "",
    status_code=201,
    response_model=DeclaredIncident,
    responses={
        200: {
            "description": "This API key used the Idempotency-Key before, with the same body: the same incident",
            "model": DeclaredIncident,
        },
        422: {"description": "A field is not valid here, or this API key used the Idempotency-Key before with a different body"},
        **TOO_MANY,
    },
    dependencies=[Depends(RateLimited("declare"))],
)
async def declare(
    declaration: Declaration,
    response: Response,
    settings: SettingsDep,
    client: ClientDep,
    catalog: CatalogDep,
    caller: Declarer,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> DeclaredIncident:
    """Declare an incident: resolve and pin the playbook, start its workflow, page the team.

    ``Idempotency-Key`` makes a retry safe: the same key with the same body gives the same incident
    (200), with a different body 422 naming the fields. Keys belong to the API key that sent them,
    and are remembered while the incident is open and, once it closes, for the Temporal namespace's
    retention (docs/operations.md)."""
    try:
        incident, created = await declare_incident(
            settings,
            client,
            catalog,
            declaration,
            api_idempotency_key(caller.name, idempotency_key),
            via=caller.via,
            same_body=True,
        )
    except DeclarationRefused as refused:
        raise HTTPException(422, str(refused)) from None
    response.headers["Location"] = f"/incidents/{incident.id}"
    if not created:
        response.status_code = 200
    return incident


@router.get("", response_model=list[IncidentListItem])
async def list_incidents(
    session: SessionDep,
    settings: SettingsDep,
    phase: Phase | None = None,
    scenario: Scenario | None = None,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[IncidentListItem]:
    rows = await service.list_incidents(
        session, phase=phase and phase.value, scenario=scenario and scenario.value, status=status and status.value, limit=limit
    )
    return [
        IncidentListItem(
            **{column: getattr(row, column) for column in IncidentListItem.model_fields if column != "links"},
            links=incident_links(settings, row.id),
        )
        for row in rows
    ]


@router.get("/{incident}", responses={404: REFUSALS[404]})
async def get_incident(incident: IncidentId, client: ClientDep, settings: SettingsDep, session: SessionDep) -> IncidentDetail:
    """The incident's live state from its workflow, with ``pending``: everything waiting on a person,
    and under each published statement the ``replies`` its posts drew on the social networks.

    The live state comes from Temporal, so a database outage must not hide it from the crisis team:
    the replies, read from the database, are then left out (``replies`` is null) and logged."""
    from api.mentions import replies_to_statements

    try:
        state = await query_state(client, incident)
    except IncidentNotFound as error:
        raise _refuse(error) from None
    HELD_VIEWS.hold(incident, state)
    try:
        replies = {item["version"]: item for item in await replies_to_statements(session, incident)}
    except (OperationalError, InterfaceError, ConnectionError) as unavailable:
        log.warning(
            "incident %s shown without the replies to its statements: the database did not answer (%s)",
            incident,
            type(unavailable).__name__,
        )
        replies = {}
    statements = [
        StatementWithReplies(**dict(statement), replies=replies.get(statement.version)) for statement in state.statements
    ]
    return IncidentDetail(**{**dict(state), "statements": statements}, links=incident_links(settings, incident))


def answer_from_view_json(text: str, links: IncidentLinks, changes: list[str]) -> ActionResult:
    """An action's answer from the view's JSON text (``api/held_views.py``), validated once as a
    whole: building the view and then the answer from it validated every part twice."""
    return ActionResult.model_validate_json(
        f'{text[:-1]},"links":{links.model_dump_json()},"changes":{json.dumps(changes, ensure_ascii=False)}}}'
    )


async def act_as_caller(client, settings, caller, incident: str, update, action: Action) -> ActionResult:
    """Run the Update and answer with the incident once the workflow has acted on it, and what the
    action did. The action carries the caller's key as ``via`` and the digests of this process's copy
    of the incident (``api/held_views.py``) as ``known``, whatever the body said; the Update answers
    with the parts that changed since that copy. Without a copy, or when the answer has no view (an
    incident started before it, or too much changed), the incident is read with a query as before."""
    held = HELD_VIEWS.get(incident)
    links = incident_links(settings, incident)
    try:
        receipt = await act(
            client, incident, update, action.model_copy(update={"via": caller.via, "known": held.digests if held else None})
        )
        text = HELD_VIEWS.answered(incident, receipt.view, held) if receipt.view is not None else None
        if text is not None:
            return answer_from_view_json(text, links, receipt.events)
        state = await query_state(client, incident)
        HELD_VIEWS.hold(incident, state)
    except (IncidentNotFound, ActionRefused) as error:
        raise _refuse(error) from None
    return ActionResult(**dict(state), changes=receipt.events, links=links)


@router.post("/{incident}/acknowledge", responses=REFUSALS)
async def acknowledge(
    incident: IncidentId, body: Acknowledge, client: ClientDep, settings: SettingsDep, caller: Responder
) -> ActionResult:
    """Acknowledge the page for every paged role the person holds; stops their escalation."""
    return await act_as_caller(client, settings, caller, incident, IncidentWorkflow.acknowledge, body)


@router.post("/{incident}/assessment", responses=REFUSALS)
async def assess(
    incident: IncidentId, body: Assessment, client: ClientDep, settings: SettingsDep, caller: Responder
) -> ActionResult:
    """The commander's assessment; its severity sets every later deadline."""
    return await act_as_caller(client, settings, caller, incident, IncidentWorkflow.assess, body)


@router.post("/{incident}/fact-sheet", responses=REFUSALS)
async def edit_fact_sheet(
    incident: IncidentId, body: FactSheetEdit, client: ClientDep, settings: SettingsDep, caller: Responder
) -> ActionResult:
    """Edit the public fact sheet (comms lead or commander): the only source of what statements say.
    Each edit is a new version on the timeline; the next drafted statement uses it."""
    return await act_as_caller(client, settings, caller, incident, IncidentWorkflow.edit_fact_sheet, body)


@router.post("/{incident}/severity", responses=REFUSALS)
async def reassess(
    incident: IncidentId, body: Reassessment, client: ClientDep, settings: SettingsDep, caller: Responder
) -> ActionResult:
    """Re-assessment: the commander raises or lowers the severity, from the assessment until the
    incident is closed. The deadlines still to come follow it; everyone paged and every stakeholder
    group is told, and every later message shows the new severity."""
    return await act_as_caller(client, settings, caller, incident, IncidentWorkflow.reassess, body)


@router.post("/{incident}/tasks/{task_id}/complete", responses=REFUSALS)
async def complete_task(
    incident: IncidentId, task_id: TaskId, body: TaskCompletion, client: ClientDep, settings: SettingsDep, caller: Responder
) -> ActionResult:
    return await act_as_caller(
        client, settings, caller, incident, IncidentWorkflow.task_done, TaskDone(**dict(body), task_id=task_id)
    )


@router.post("/{incident}/statements", responses=REFUSALS)
async def submit_statement(
    incident: IncidentId, body: StatementDraft, client: ClientDep, settings: SettingsDep, caller: Responder
) -> ActionResult:
    """A new version of the statement in progress; it replaces the previous one and goes to approval."""
    return await act_as_caller(client, settings, caller, incident, IncidentWorkflow.submit_statement, body)


@router.post("/{incident}/statements/preview", responses={404: REFUSALS[404]})
async def preview_statement(incident: IncidentId, body: StatementPreview, client: ClientDep, caller: Responder) -> DraftPreview:
    """What a draft would publish on each channel of the incident's playbook, each counted its
    channel's way against its limit, with what is over in words (the words a draft over a limit is
    refused with). Nothing is sent or recorded: the statement editor calls it as people type."""
    try:
        return await query_preview(client, incident, body)
    except IncidentNotFound as error:
        raise _refuse(error) from None


@router.post("/{incident}/statements/{version}/decision", responses=REFUSALS)
async def decide(
    incident: IncidentId, version: int, body: StatementDecision, client: ClientDep, settings: SettingsDep, caller: Responder
) -> ActionResult:
    return await act_as_caller(
        client, settings, caller, incident, IncidentWorkflow.decide_statement, DecideStatement(**dict(body), version=version)
    )


@router.post("/{incident}/resolve", responses=REFUSALS)
async def resolve(
    incident: IncidentId, body: Resolution, client: ClientDep, settings: SettingsDep, caller: Responder
) -> ActionResult:
    """The crisis is over: a resolution statement follows when anything was published, then the review."""
    return await act_as_caller(client, settings, caller, incident, IncidentWorkflow.resolve, body)


@router.post("/{incident}/review", responses=REFUSALS)
async def review(
    incident: IncidentId, body: ReviewSubmission, client: ClientDep, settings: SettingsDep, caller: Responder
) -> ActionResult:
    """The post-incident review; submitting it closes the incident."""
    return await act_as_caller(client, settings, caller, incident, IncidentWorkflow.submit_review, body)


class Subscription(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: str = Field(min_length=3, max_length=320, pattern=EMAIL_PATTERN, description="Where the incident's news goes.")
    name: one_line(max_length=200) | None = None


class Subscriber(BaseModel):
    incident_id: str
    email: str
    name: str | None


@router.post(
    "/{incident}/subscribers",
    status_code=201,
    response_model=Subscriber,
    responses={200: {"description": "Already subscribed"}, 404: REFUSALS[404]},
)
async def subscribe(
    incident: IncidentId, body: Subscription, response: Response, client: ClientDep, session: SessionDep, caller: Responder
) -> Subscriber:
    """Add someone outside the crisis team to the incident's email updates (declaration news is past;
    they hear acknowledgement, every published statement and the resolution). Not sent during drills."""
    try:
        await query_state(client, incident)
    except IncidentNotFound as error:
        raise _refuse(error) from None
    if not await service.add_subscriber(session, incident, body.email.lower(), body.name):
        response.status_code = 200
    return Subscriber(incident_id=incident, email=body.email.lower(), name=body.name)


@router.get("/{incident}/subscribers", response_model=list[Subscriber])
async def subscribers(incident: IncidentId, session: SessionDep) -> list[Subscriber]:
    return [
        Subscriber(incident_id=row.incident_id, email=row.email, name=row.name)
        for row in await service.list_subscribers(session, incident)
    ]
