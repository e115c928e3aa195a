"""Talking to incident workflows: start, query and update, with Temporal's errors turned into
the HTTP answers people expect."""

import hashlib
import secrets

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.actions import Action, StatementPreview
from domain.incident import IncidentPlan, IncidentView
from domain.preview import DraftPreview
from domain.receipts import UpdateReceipt
from workflows.incident import IncidentWorkflow
from workflows.search_attributes import CRISIS_DRILL, CRISIS_PHASE, CRISIS_SCENARIO, CRISIS_SEVERITY


class IncidentNotFound(Exception):
    pass


class ActionRefused(Exception):
    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.message = message
        self.status = status


def incident_id(idempotency_key: str | None) -> str:
    """The workflow id. A key always maps to the same id, which is what dedupes declarations."""
    if idempotency_key:
        return "inc-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]
    return "inc-" + secrets.token_hex(8)


async def start_incident(client: Client, task_queue: str, plan: IncidentPlan, memo: dict | None = None) -> bool:
    """Start the workflow; False when an incident with this id already exists (open or closed).

    REJECT_DUPLICATE keeps a closed incident's id taken (until the namespace's retention deletes
    it), and the default FAIL conflict policy lets the caller tell "created" (201) from "already
    there" (200) without a second round trip. ``memo`` goes with the workflow (no personal data).

    The start asks to be eager: when ``client``'s connection has a worker on ``task_queue`` with a
    free slot (``crisis dev``, where the API and the worker share one), the server hands the first
    workflow task back with the answer and that worker runs it at once; otherwise (``crisis api``
    beside separate workers) the request is an ordinary start. The history's first event says
    which (``eager_execution_accepted``).
    """
    details = f"Playbook **{plan.playbook.name}** (`{plan.playbook.id}`), declared {plan.severity}"
    if plan.drill:
        details += " — **drill**"
    try:
        await client.start_workflow(
            IncidentWorkflow.run,
            plan,
            id=plan.id,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(CRISIS_SCENARIO, plan.playbook.scenario.value),
                    SearchAttributePair(CRISIS_SEVERITY, plan.severity.value),
                    SearchAttributePair(CRISIS_PHASE, "identify"),
                    SearchAttributePair(CRISIS_DRILL, plan.drill),
                ]
            ),
            memo=memo,
            static_summary=("[DRILL] " if plan.drill else "") + plan.title,
            static_details=details,
            request_eager_start=True,
        )
    except WorkflowAlreadyStartedError:
        return False
    return True


async def incident_memo(client: Client, incident: str, key: str):
    """One value of the incident workflow's memo, or None (an incident started without it)."""
    description = await client.get_workflow_handle(incident).describe()
    return await description.memo_value(key, None)


async def query_state(client: Client, incident: str) -> IncidentView:
    return await _query(client, incident, IncidentWorkflow.state)


async def query_preview(client: Client, incident: str, draft: StatementPreview) -> DraftPreview:
    """The statement editor's preview of ``draft`` on the incident's pinned playbook (a query: nothing is recorded)."""
    return await _query(client, incident, IncidentWorkflow.preview_statement, draft)


async def _query(client: Client, incident: str, query, *args):
    handle = client.get_workflow_handle(incident)
    try:
        return await handle.query(query, *args)
    except RPCError as error:
        if error.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            raise IncidentNotFound(incident) from None
        raise


async def act(client: Client, incident: str, update, action: Action, update_id: str | None = None) -> UpdateReceipt:
    """Send one Update with its one input; map a validator's rejection to 409/422 and a finished workflow to 409.

    ``update_id`` makes a repeated action (a double click on a link) run the handler once: both
    callers get the same result.
    """
    handle = client.get_workflow_handle(incident)
    try:
        return await handle.execute_update(update, action, id=update_id)
    except WorkflowUpdateFailedError as failure:
        cause = failure.cause
        if isinstance(cause, ApplicationError) and (cause.type or "").startswith("Rejected."):
            status = 422 if cause.type == "Rejected.invalid" else 409
            raise ActionRefused(cause.message, status) from None
        raise
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        try:
            await handle.describe()
        except RPCError:
            raise IncidentNotFound(incident) from None
        raise ActionRefused("the incident is closed", 409) from None
