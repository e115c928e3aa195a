"""The review phase on the time-skipping server: feedback by link for the team and the playbook's
stakeholders, a reminder half-way to the review deadline, and the metrics kept for reports."""

import asyncio

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from domain.actions import FeedbackSubmission
from store.models import IncidentMetricsRow
from tests.driver import next_step


async def drive_to_review(harness, handle) -> dict:
    for _ in range(200):
        state = await harness.state(handle)
        if state["phase"] == "review" and state["feedback_requested"]:
            return state
        step = next_step(state)
        if step is None or step.update == "submit_review":
            await asyncio.sleep(0.05)
            continue
        await harness.act(handle, step.update, step.update_input())
    raise AssertionError(f"never reached the review: {state['phase']}")


async def test_feedback_is_asked_of_team_and_stakeholders_reminded_and_closed_with_the_review(harness, catalog):
    plan = harness.plan("technical_outage")
    handle = await harness.start(plan)
    state = await drive_to_review(harness, handle)
    stakeholders = catalog.roster.stakeholder_people(plan.playbook.stakeholders)
    asked = state["feedback_requested"]
    assert set(stakeholders) <= set(asked) and state["timeline"][-1]["kind"] in (
        "feedback_requested",
        "stakeholders_briefed",
        "phase_changed",
    )
    outbox = await harness.outbox(plan.id)
    links = {m.person_id: m.links for m in outbox if m.kind == "feedback"}
    assert set(links) == set(asked)
    assert all(any("/a/" in link["url"] for link in person_links) for person_links in links.values())
    assert next(p for p in state["pending"] if p["kind"] == "feedback")["people"] == asked

    await harness.act(
        handle,
        "submit_feedback",
        FeedbackSubmission(person=asked[0], rating=4, went_well="Fast page", went_badly="Slow approvals"),
    )
    with pytest.raises(WorkflowUpdateFailedError) as twice:
        await harness.act(handle, "submit_feedback", FeedbackSubmission(person=asked[0], rating=2))
    assert "already given feedback" in str(twice.value.cause)

    await harness.env.sleep(plan.playbook.review.due_after / 2)
    state = await harness.until(
        handle, lambda s: any(e["kind"] == "feedback_requested" and e["data"]["reminder"] for e in s["timeline"])
    )
    reminder = next(e for e in state["timeline"] if e["kind"] == "feedback_requested" and e["data"]["reminder"])
    assert asked[0] not in reminder["data"]["people"] and set(reminder["data"]["people"]) == set(asked[1:])
    outbox = await harness.outbox(plan.id)
    assert any(m.kind == "review" and m.subject.startswith("Reminder:") for m in outbox)

    final = await harness.drive_to_closed(handle)
    assert final["feedback"][0]["rating"] == 4
    await handle.result()  # the last projection is written
    with pytest.raises(RPCError):  # a closed workflow takes no Update: the API answers "closed"
        await harness.act(handle, "submit_feedback", FeedbackSubmission(person=asked[1], rating=5))
    async with harness.sessions() as session:
        row = await session.get(IncidentMetricsRow, plan.id)
    assert row.feedback_count == 1 and row.feedback_mean == 4.0 and row.closed_at is not None
    assert row.time_to_acknowledge_s is not None and row.time_to_resolve_s > row.time_to_first_statement_s > 0
