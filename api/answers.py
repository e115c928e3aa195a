"""The incident's answers kit over HTTP: the team's pre-approved replies to the public, adapted for
this incident through the statements' approval rule. Nothing here is ever published."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path

from api.auth import Responder
from api.deps import ClientDep, SettingsDep
from api.incidents import REFUSALS, ActionResult, IncidentId, act_as_caller
from domain.actions import AnswerDraft, DecideAnswer, ProposeAnswer, StatementDecision
from domain.incident import KitAnswer
from services.temporal import IncidentNotFound, query_state
from workflows.incident import IncidentWorkflow

router = APIRouter(prefix="/incidents", tags=["answers kit"])

AnswerId = Annotated[
    str,
    Path(
        max_length=100,
        pattern=r"^[a-z][a-z0-9_]*$",
        description="Answer id from the kit, like is_giveaway_real; a new id adds an answer.",
    ),
]
Version = Annotated[int, Path(ge=1, description="The answer's version; the playbook's own text is v1.")]


@router.get("/{incident}/answers", responses={404: REFUSALS[404]})
async def answers_kit(incident: IncidentId, client: ClientDep) -> list[KitAnswer]:
    """Every answer as the people replying should use it now (``source``: playbook or incident),
    with the proposal still in approval or sent back for changes."""
    try:
        state = await query_state(client, incident)
    except IncidentNotFound:
        raise HTTPException(404, f"incident '{incident}' does not exist") from None
    return state.answers_kit


@router.post("/{incident}/answers/{answer_id}", responses=REFUSALS)
async def propose_answer(
    incident: IncidentId, answer_id: AnswerId, body: AnswerDraft, client: ClientDep, settings: SettingsDep, caller: Responder
) -> ActionResult:
    """A new version of one answer (or a new answer, with its ``question``) for this incident, by the
    comms lead or the commander. It goes to the playbook's approvers by email, like a statement."""
    return await act_as_caller(
        client, settings, caller, incident, IncidentWorkflow.propose_kit_answer, ProposeAnswer(**dict(body), answer_id=answer_id)
    )


@router.post("/{incident}/answers/{answer_id}/versions/{version}/decision", responses=REFUSALS)
async def decide_answer(
    incident: IncidentId,
    answer_id: AnswerId,
    version: Version,
    body: StatementDecision,
    client: ClientDep,
    settings: SettingsDep,
    caller: Responder,
) -> ActionResult:
    """Approve or request changes; once the playbook's approval rule is met, the version replaces the
    answer for this incident."""
    decision = DecideAnswer(**dict(body), answer_id=answer_id, version=version)
    return await act_as_caller(client, settings, caller, incident, IncidentWorkflow.decide_kit_answer, decision)
