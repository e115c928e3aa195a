"""Every Update takes one input model and answers with a typed receipt; the earlier forms, with the
identifiers as leading arguments, still reach the same handler (recorded histories and incidents
that were running when the Updates changed hold them)."""

import inspect
import typing

import pytest
from temporalio import workflow
from temporalio.client import WorkflowUpdateFailedError

from domain.actions import Acknowledge, Action, Assessment
from domain.incident import Phase
from domain.receipts import UpdateReceipt
from domain.severity import Severity
from workflows.incident import EARLIER_UPDATES, IncidentWorkflow

EWA = "ewa.lewandowska"


def _updates() -> dict[str, object]:
    """Each named Update's handler, as the worker registers it."""
    definitions = workflow._Definition.must_from_class(IncidentWorkflow).updates
    return {name: definition.fn for name, definition in definitions.items() if name is not None}


def test_each_update_takes_one_input_model_of_its_own_and_answers_with_a_receipt():
    updates = _updates()
    assert len(updates) == 14
    inputs = {}
    for name, method in updates.items():
        hints = typing.get_type_hints(method)
        parameters = [p for p in inspect.signature(method).parameters if p != "self"]
        assert len(parameters) == 1, f"{name} takes {parameters}"
        model = hints[parameters[0]]
        assert issubclass(model, Action), f"{name} takes {model}"
        assert hints["return"] is UpdateReceipt, name
        inputs[name] = model
    shared = {model.__name__ for model in inputs.values() if list(inputs.values()).count(model) > 1}
    assert not shared, f"more than one Update takes {shared}"


def test_each_earlier_update_names_its_successor_and_fields_the_successor_has():
    updates = _updates()
    for earlier, (successor, model, leading) in EARLIER_UPDATES.items():
        assert earlier not in updates, f"{earlier} is a live Update: the earlier form would never reach it"
        assert typing.get_type_hints(updates[successor])["action"] is model
        assert set(leading) <= set(model.model_fields)


async def _in_respond(harness):
    handle = await harness.start(harness.commander_only(harness.plan("account_compromise")))
    await harness.until(handle, lambda s: s["pending"])
    await harness.act(handle, "acknowledge", Acknowledge(person=EWA))
    receipt = await harness.act(handle, "assess", Assessment(person=EWA, severity=Severity.SEV2))
    assert isinstance(receipt, UpdateReceipt) and receipt.phase is Phase.ASSESS and receipt.events[0] == "Assessed as SEV2"
    state = await harness.until(handle, lambda s: s["phase"] == "respond" and s["tasks"])
    return handle, state


async def test_an_update_in_its_earlier_form_is_handled_by_its_successor(harness):
    handle, state = await _in_respond(harness)
    task = state["tasks"][0]
    receipt = await handle.execute_update(
        "complete_task", args=[task["id"], {"person": EWA, "note": "done", "via": None}], result_type=UpdateReceipt
    )
    assert receipt.events[0] == f"Task '{task['title']}' done by {EWA}"
    state = await harness.state(handle)
    done = next(t for t in state["tasks"] if t["id"] == task["id"])
    assert (done["status"], done["done_by"], done["note"]) == ("done", EWA, "done")
    with pytest.raises(WorkflowUpdateFailedError) as again:  # the successor's validator ran: already done
        await handle.execute_update("complete_task", args=[task["id"], {"person": EWA}])
    assert again.value.cause.type == "Rejected.conflict" and "already done" in again.value.cause.message


@pytest.mark.parametrize(
    "name, args, message",
    [
        ("no_such_action", [{"person": EWA}], "there is no action 'no_such_action'"),
        ("complete_task", [{"person": EWA}], "'complete_task' takes task_id and the action"),
        ("decide", [1, "approve"], "'decide' takes version and the action"),
    ],
)
async def test_an_unknown_or_malformed_update_is_rejected_and_changes_nothing(harness, name, args, message):
    handle, before = await _in_respond(harness)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(name, args=args)
    assert refused.value.cause.type == "Rejected.invalid" and message in refused.value.cause.message
    history = await handle.fetch_history()
    accepted = [
        e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        for e in history.events
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    assert name not in accepted
    after = await harness.state(handle)
    assert [t["status"] for t in after["tasks"]] == [t["status"] for t in before["tasks"]]
