"""Internal and partner messages over HTTP: each internal audience's message (all staff, store
staff, partners), revised by the comms lead and decided by the statement's approvers. Approved, it
is emailed to the audience's roster groups, marked internal; nothing here is ever published."""

from typing import Annotated

from fastapi import APIRouter, Path

from api.auth import Responder
from api.deps import ClientDep, SettingsDep
from api.incidents import REFUSALS, ActionResult, IncidentId, act_as_caller
from domain.actions import DecideInternal, InternalDraft, ReviseInternal, StatementDecision
from workflows.incident import IncidentWorkflow

router = APIRouter(prefix="/incidents", tags=["internal messages"])

Audience = Annotated[
    str, Path(max_length=100, pattern=r"^[a-z][a-z0-9_]*$", description="Internal audience id from the playbook, like all_staff.")
]
Version = Annotated[int, Path(ge=1, description="The message's version for this audience.")]


@router.post("/{incident}/internal/{audience}", responses=REFUSALS)
async def revise_internal(
    incident: IncidentId, audience: Audience, body: InternalDraft, client: ClientDep, settings: SettingsDep, caller: Responder
) -> ActionResult:
    """A new version of one audience's message, by the comms lead or the commander (the internal
    mark is added in front). It goes to the approvers by email, like a statement."""
    return await act_as_caller(
        client, settings, caller, incident, IncidentWorkflow.revise_internal, ReviseInternal(**dict(body), audience=audience)
    )


@router.post("/{incident}/internal/{audience}/versions/{version}/decision", responses=REFUSALS)
async def decide_internal(
    incident: IncidentId,
    audience: Audience,
    version: Version,
    body: StatementDecision,
    client: ClientDep,
    settings: SettingsDep,
    caller: Responder,
) -> ActionResult:
    """Approve or request changes; once the playbook's approval rule is met, the message is emailed
    to the audience."""
    decision = DecideInternal(**dict(body), audience=audience, version=version)
    return await act_as_caller(client, settings, caller, incident, IncidentWorkflow.decide_internal_message, decision)
