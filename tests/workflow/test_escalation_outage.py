"""Escalation during an SMS provider outage, on the time-skipping server: the chain climbs on time
while a page's SMS is still being retried, and pages nobody needs any more are cancelled."""

import asyncio
from datetime import timedelta

import pytest_asyncio

from channels.base import ChannelKind
from domain.actions import Acknowledge
from domain.severity import Severity
from tests.workflow.harness import SmsOutage, open_harness
from workflows.incident import RETRYING_AFTER

ROLE = "incident_commander"


@pytest_asyncio.fixture(loop_scope="session")
async def outage(time_skipping_env, catalog, tmp_path):
    sms = SmsOutage()
    async with open_harness(time_skipping_env, catalog, tmp_path / "crisis.db", {ChannelKind.SMS: sms}) as harness:
        yield harness, sms


async def test_the_next_level_is_paged_on_time_while_sms_is_down_and_late_pages_are_cancelled(outage, catalog):
    harness, sms = outage
    # Only the commander is paged: every other role's SMS would be retried too, and the
    # time-skipping server runs each try in real time.
    plan = harness.commander_only(harness.plan("account_compromise", severity=Severity.SEV1))
    first, second = (level.people[0] for level in catalog.roster.org_chart().policy(ROLE).levels[:2])
    within = plan.playbook.identify.acknowledge_within.at(Severity.SEV1)
    handle = await harness.start(plan)

    # Level 1's email goes at once; its SMS keeps failing and its activity keeps retrying.
    await harness.until_emailed(plan.id, "page", first)
    await harness.env.sleep(within + timedelta(seconds=1))
    # The level's wait passed with the SMS still down: level 2 is paged all the same.
    await harness.until_emailed(plan.id, "page", second)
    first_page = f"{plan.id}/page.{ROLE}.0.0/sms"
    assert sms.tries.count(first_page) > 1 and not sms.delivered
    state = await harness.state(handle)
    assert any(e["kind"] == "page_unanswered" and e["data"]["person"] == first for e in state["timeline"])

    await harness.act(handle, "acknowledge", Acknowledge(person=second))
    await harness.until(handle, lambda s: s["phase"] == "assess")
    await harness.env.sleep(RETRYING_AFTER + timedelta(seconds=1))  # the two pages are still being retried then
    await harness.until_emailed(plan.id, "taken", first)  # told who took it, though their SMS never went
    state = await harness.until(
        handle, lambda s: sum(e["kind"] == "page_withdrawn" and e["data"]["role"] == ROLE for e in s["timeline"]) == 2
    )
    withdrawn = [e for e in state["timeline"] if e["kind"] == "page_withdrawn" and e["data"]["role"] == ROLE]
    assert [e["data"]["person"] for e in withdrawn] == [first, second]
    assert withdrawn[0]["message"] == f"Stopped retrying the page to {first} ({ROLE}, level 1): {second} took it first"
    assert not any(e["kind"] == "paged" and e["data"]["role"] == ROLE for e in state["timeline"])

    # The provider comes back: the two pages' SMS are not sent late, now that the page is taken.
    history = await handle.fetch_history()
    cancelled = {
        e.activity_task_scheduled_event_attributes.activity_id: e.event_id
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    }
    requested = {
        e.activity_task_cancel_requested_event_attributes.scheduled_event_id
        for e in history.events
        if e.HasField("activity_task_cancel_requested_event_attributes")
    }
    assert {cancelled[f"page.{ROLE}.0.0"], cancelled[f"page.{ROLE}.0.1"]} <= requested
    sms.down = False
    await harness.env.sleep(timedelta(minutes=5))
    for _ in range(100):
        if {m.person_id for m in sms.delivered if m.kind == "taken"} >= {first}:
            break
        await asyncio.sleep(0.05)
    pages = [m for m in sms.delivered if m.kind == "page" and m.ledger_key.startswith(f"{plan.id}/page.{ROLE}.")]
    assert pages == []
    assert first in {m.person_id for m in sms.delivered if m.kind == "taken"}
