"""A statement the playbook's template cannot draft does not stall the incident (issue #21): the
render activity fails at once and for good (a template or fact-sheet error fails every try alike),
the failure is a timeline event the team sees, and the incident goes on: the statement is drafted
again once the fact sheet is fixed, and a resolution statement that cannot be drafted lets the
incident go on to its review and close."""

import re

from temporalio.api.enums.v1 import EventType, RetryState

from domain.actions import FactSheetEdit
from domain.severity import Severity

# Drafts only once the fact sheet says what happened, and never a resolution (it names no remedy).
FRAGILE_TEMPLATE = (
    "{% if kind == 'resolution' %}{{ 1 // (remedy | length) }}{% else %}"
    "{{ organization }}: {{ what_happened | upper }}{{ '' if 1 // (what_happened | length) }}{% endif %}"
)


def draft_failures(state: dict) -> list[dict]:
    return [event for event in state["timeline"] if event["kind"] == "draft_failed"]


async def test_a_statement_the_template_cannot_draft_is_on_the_timeline_and_the_incident_goes_on(harness):
    plan = harness.commander_only(harness.plan("account_compromise", severity=Severity.SEV2))
    plan = plan.model_copy(update={"template": FRAGILE_TEMPLATE})
    handle = await harness.start(plan)

    state = await harness.drive_until(handle, lambda s: draft_failures(s))
    [failure] = draft_failures(state)
    assert failure["data"]["what"] == "the holding statement"
    assert "ZeroDivisionError" in failure["data"]["reason"], failure
    assert "write it by hand" in failure["message"]
    assert state["statements"] == []

    # Tried once: the activity said the error cannot go away on a retry.
    history = await handle.fetch_history()
    failed = [
        event.activity_task_failed_event_attributes
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED
    ]
    assert [f.retry_state for f in failed] == [RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE]
    # Not drafted again until something changes: one statement draft scheduled (its activity id
    # is render.<n>). Other activities (the failure's projection, notices beside the flow) may
    # still be scheduled after it, at their own pace.
    drafts = [
        event.activity_task_scheduled_event_attributes.activity_id
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and re.fullmatch(r"render\.\d+", event.activity_task_scheduled_event_attributes.activity_id)
    ]
    assert drafts == ["render.1"], drafts

    commander = next(item for item in state["pending"] if item["kind"] == "resolve")["people"][0]
    await harness.act(
        handle, "edit_fact_sheet", FactSheetEdit(person=commander, fields={"what_happened": "Our account posted a scam."})
    )
    state = await harness.drive_until(handle, lambda s: any(st["status"] == "published" for st in s["statements"]))
    assert "OUR ACCOUNT POSTED A SCAM." in state["statements"][0]["text"]

    state = await harness.drive_to_closed(handle)
    failures = draft_failures(state)
    assert [f["data"]["what"] for f in failures] == ["the holding statement", "the resolution statement"]
    assert "goes on to its review without one" in failures[-1]["message"]
    assert [s["kind"] for s in state["statements"]] == ["holding"]
    await handle.result()
    timeline = await harness.timeline(plan.id)
    assert sum(event.kind == "draft_failed" for event in timeline) == 2  # the read model has them too
