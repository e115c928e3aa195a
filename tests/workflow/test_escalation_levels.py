"""Escalation levels of several people, on the time-skipping server: the whole level is paged at once."""

import asyncio
from datetime import timedelta

from domain.actions import Acknowledge
from domain.severity import Severity
from workflows.patches import BASELINE

ROLE = "incident_commander"  # the shipped roster's level 3 pages every executive sponsor


def paged(person: str, level: int):
    return lambda s: any(
        e["kind"] == "paged" and e["data"]["person"] == person and e["data"]["level"] == level for e in s["timeline"]
    )


async def test_everyone_on_a_level_is_paged_at_once(harness, catalog):
    plan = harness.plan("account_compromise", severity=Severity.SEV1)
    levels = catalog.roster.org_chart().policy(ROLE).levels
    assert len(levels[2].people) > 1
    within = plan.playbook.identify.acknowledge_within.at(Severity.SEV1)
    handle = await harness.start(plan)
    for number in (0, 1):
        await harness.until(handle, paged(levels[number].people[0], number))
        await harness.env.sleep(within + timedelta(seconds=1))
    for person in levels[2].people:
        await harness.until(handle, paged(person, 2))

    history = await handle.fetch_history()
    scheduled_by = {
        event.activity_task_scheduled_event_attributes.activity_id: (
            event.activity_task_scheduled_event_attributes.workflow_task_completed_event_id
        )
        for event in history.events
        if event.HasField("activity_task_scheduled_event_attributes")
    }
    level_pages = [f"page.{ROLE}.0.2.{person}" for person in levels[2].people]
    # One workflow task scheduled every page of the level: none waited for another's send.
    assert len({scheduled_by[activity_id] for activity_id in level_pages}) == 1
    markers = [e.marker_recorded_event_attributes for e in history.events if e.HasField("marker_recorded_event_attributes")]
    # The path that pages a level at once now: escalate-on-time, asked about or taken with the baseline.
    assert any(patch in marker.SerializeToString() for marker in markers for patch in (b"escalate-on-time", BASELINE.encode()))
    outbox = await harness.outbox(plan.id)
    for person in levels[2].people:
        assert {m.channel for m in outbox if m.kind == "page" and m.person_id == person} == {"sms", "email"}

    # Any one of them takes it; the others on the level hear who did.
    taker, *others = levels[2].people
    await harness.act(handle, "acknowledge", Acknowledge(person=taker))
    await harness.until(handle, lambda s: s["phase"] == "assess")
    for _ in range(100):
        told = {m.person_id for m in await harness.outbox(plan.id) if m.kind == "taken"}
        if told.issuperset(others):
            break
        await asyncio.sleep(0.05)
    assert told.issuperset(others) and taker not in told
