"""A declaration's first workflow task pages the commander itself and schedules the rest of the
team's pages before the work beside them: the stakeholders' briefing, the schedulers' pause, the
projection.

- ``lean-first-commander-in-first-task``: the commander's first page is a local activity of the first
  task, so it goes as the task's activation ends, without the task's completion going to the
  Temporal server and an eager activity coming back. One try there; a try that failed goes on the
  page's own activity with the same ledger keys (tests/workflow/test_escalation_outage.py has the
  commander's SMS down through that try and its retries).
- ``lean-first-pages-first``: the worker starts the first activities of a workflow task first and
  its database serves their writes in that order, so a briefing scheduled first held every page
  back behind its own sends (bench/findings.md, "Declare → first page against the floor")."""

import asyncio
import json
from collections import Counter

import pytest_asyncio
from temporalio.api.enums.v1 import EventType

from channels.base import ChannelKind
from tests.workflow.harness import LOCAL_ACTIVITY, SmsOutage, open_harness


async def first_task(handle) -> tuple[list[str], list[tuple[str, str]]]:
    """The activities the first workflow task scheduled (their ids), and the local activities it ran
    (their type and summary)."""
    scheduled, local = [], []
    completed = 0
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            completed += 1
            if completed > 1:
                break
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled.append(event.activity_task_scheduled_event_attributes.activity_id)
        elif event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            marker = event.marker_recorded_event_attributes
            if marker.marker_name == LOCAL_ACTIVITY:
                data = json.loads(marker.details["data"].payloads[0].data)
                local.append((data["activity_type"], json.loads(event.user_metadata.summary.data)))
    return scheduled, local


async def until_paged(harness, incident_id: str, people: int) -> list:
    for _ in range(200):
        pages = [m for m in await harness.outbox(incident_id) if m.kind == "page"]
        if len({m.person_id for m in pages}) >= people:
            return pages
        await asyncio.sleep(0.05)
    raise AssertionError(f"{people} people were not paged")


async def test_the_first_workflow_task_pages_the_commander_and_schedules_every_other_page_before_anything_else(harness):
    plan = harness.plan("technical_outage")
    assert plan.playbook.stakeholders  # it briefs stakeholders at declaration, beside the pages
    roles = plan.playbook.identify.page
    commander = harness.catalog.roster.org_chart().policy(plan.playbook.identify.commander).levels[0].people[0]
    handle = await harness.start(plan)
    pages = await until_paged(harness, plan.id, len(roles))
    scheduled, local = await first_task(handle)
    assert local == [("notify_each", f"page {commander} as {plan.playbook.identify.commander}, level 1, round 1")]
    others = [activity for activity in scheduled if activity.startswith("page.")]
    assert len(others) == len(roles) - 1 and f"page.{plan.playbook.identify.commander}.0.0" not in others
    assert scheduled[: len(others)] == others, scheduled
    assert any(activity.startswith("brief.declared") for activity in scheduled), scheduled  # still in the same task
    assert Counter((m.person_id, m.channel) for m in pages if m.person_id == commander) == {
        (commander, "sms"): 1,
        (commander, "email"): 1,
    }
    state = await harness.state(handle)
    assert [e["data"]["person"] for e in state["timeline"] if e["kind"] == "paged"][0] == commander


@pytest_asyncio.fixture(loop_scope="session")
async def sms_down(time_skipping_env, catalog, tmp_path):
    sms = SmsOutage()
    async with open_harness(time_skipping_env, catalog, tmp_path / "crisis.db", {ChannelKind.SMS: sms}) as harness:
        yield harness, sms


async def test_a_first_try_that_failed_goes_on_the_pages_own_activity_and_nothing_goes_twice(sms_down):
    harness, sms = sms_down
    plan = harness.commander_only(harness.plan("technical_outage"))
    role = plan.playbook.identify.commander
    handle = await harness.start(plan)
    await harness.until_emailed(plan.id, "page", harness.catalog.roster.org_chart().policy(role).levels[0].people[0])
    key = f"{plan.id}/page.{role}.0.0/sms"
    for _ in range(200):
        if sms.tries.count(key) >= 2:  # the local try, then its own activity's first
            break
        await asyncio.sleep(0.05)
    scheduled, local = await first_task(handle)
    assert [kind for kind, _ in local] == ["notify_each"] and sms.tries[0] == key
    sms.down = False
    for _ in range(200):
        if sms.delivered:
            break
        await asyncio.sleep(0.05)
    history = await handle.fetch_history()
    own = [
        e.activity_task_scheduled_event_attributes.activity_id
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    assert f"page.{role}.0.0" in own  # the page's own activity took over after the local try
    assert [m.ledger_key for m in sms.delivered] == [key]
    emails = [m for m in await harness.outbox(plan.id) if m.kind == "page"]
    assert len(emails) == 1  # the email the local try sent is not sent again
    state = await harness.state(handle)
    assert [e["kind"] for e in state["timeline"]].count("paged") == 1
