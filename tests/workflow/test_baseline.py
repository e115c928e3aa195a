"""A run that starts with the baseline (``lean-first-baseline``, workflows/patches.py) records one
patch marker in place of one marker and one ``TemporalChangeVersion`` upsert for every patch it covers,
and asks about each later patch as usual; a run without it (every recorded history of tests/histories,
replayed by test_replay.py) asks about each patch as before."""

import asyncio
import json

from temporalio.api.enums.v1 import EventType

from workflows.incident_flow import COMMANDER_PAGED_IN_FIRST_TASK
from workflows.patches import BASELINE, BASELINE_COVERS, PATCHES

PATCH_MARKER = "core_patch"


def _patch_ids(events) -> list[str]:
    ids = []
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            attributes = event.marker_recorded_event_attributes
            if attributes.marker_name == PATCH_MARKER:
                ids.append(json.loads(attributes.details["patch-data"].payloads[0].data)["id"])
    return ids


async def test_a_new_incident_records_the_baseline_alone_and_takes_every_patch_it_covers(harness):
    plan = harness.plan("technical_outage")
    handle = await harness.start(plan)
    for _ in range(200):  # every role paged: the first task has completed (the commander's page is sent inside it)
        if len({m.person_id for m in await harness.outbox(plan.id) if m.kind == "page"}) == len(plan.playbook.identify.page):
            break
        await asyncio.sleep(0.05)
    events = [event async for event in handle.fetch_history_events()]
    first_task_completed = next(
        i for i, event in enumerate(events) if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    )
    later = [COMMANDER_PAGED_IN_FIRST_TASK]  # registered after the baseline
    assert _patch_ids(events) == [BASELINE, *later]
    assert _patch_ids(events[first_task_completed : first_task_completed + 2]) == [BASELINE]  # decided in the first task
    versions = [
        event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields["TemporalChangeVersion"]
        for event in events
        if event.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
        and "TemporalChangeVersion" in event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
    ]
    assert [json.loads(version.data) for version in versions] == [[BASELINE], [BASELINE, *later]]
    # The paths the covered patches guard are taken: the pages went first (lean-first-pages-first), each
    # level's wait started when its pages were sent (escalate-on-time), the stakeholders were briefed.
    scheduled = [
        event.activity_task_scheduled_event_attributes.activity_id
        for event in events[first_task_completed:]
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    pages = len(plan.playbook.identify.page) - 1  # the commander's is a local activity (lean-first-commander-in-first-task)
    assert all(activity.startswith("page.") for activity in scheduled[:pages]), scheduled
    assert any(activity.startswith("brief.declared") for activity in scheduled), scheduled


def test_the_baseline_covers_registered_patches_no_younger_than_itself():
    assert BASELINE in PATCHES and BASELINE not in BASELINE_COVERS
    assert BASELINE_COVERS <= set(PATCHES)
    assert all(PATCHES[patch].added <= PATCHES[BASELINE].added for patch in BASELINE_COVERS)
