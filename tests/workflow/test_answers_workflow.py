"""The answers kit Updates on the time-skipping server: approvers are emailed a single-use link,
a rejection reaches the author, and nothing of it is ever published."""

import asyncio

import pytest
from temporalio.client import WorkflowUpdateFailedError

from domain.actions import Acknowledge, DecideAnswer, ProposeAnswer
from store import tokens

ANNA, EWA, PIOTR, KASIA = "anna.kowalska", "ewa.lewandowska", "piotr.zielinski", "katarzyna.wisniewska"
GIVEAWAY = "is_giveaway_real"
FIRST = "No. The giveaway is a scam; please don't click its links."
REVISED = FIRST + " We're working with Instagram to get the account back."


async def _mails(harness, incident_id: str, kind: str, count: int) -> list:
    for _ in range(200):
        found = [m for m in await harness.outbox(incident_id) if m.kind == kind]
        if len(found) >= count:
            return sorted(found, key=lambda m: m.id)
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {count} {kind} messages arrived")


async def test_a_proposal_is_emailed_to_the_approvers_rejected_revised_approved_and_never_published(harness):
    plan = harness.plan("account_compromise")
    handle = await harness.start(plan)
    await harness.until(handle, lambda s: s["pending"])
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await harness.act(handle, "propose_kit_answer", ProposeAnswer(answer_id=GIVEAWAY, person=ANNA, text=FIRST))
    assert refused.value.cause.type == "Rejected.conflict" and "identify phase" in refused.value.cause.message
    await harness.act(handle, "acknowledge", Acknowledge(person=EWA))

    receipt = await harness.act(handle, "propose_kit_answer", ProposeAnswer(answer_id=GIVEAWAY, person=ANNA, text=FIRST))
    assert receipt.events == [f"Answer '{GIVEAWAY}' v2 proposed by {ANNA}"]
    asked = await _mails(harness, plan.id, "answer_approval", 2)
    assert {(m.person_id, m.channel) for m in asked} == {(PIOTR, "email"), (KASIA, "email")}
    assert all(f"answer '{GIVEAWAY}' v2" in m.subject and FIRST in m.body for m in asked)
    async with harness.sessions() as session:
        link_rows = [await tokens.open_for_person(session, person, "approve_answer") for person in (PIOTR, KASIA)]
    assert [[(row.incident_id, row.version) for row in rows] for rows in link_rows] == [[(plan.id, 1)], [(plan.id, 1)]]
    assert all(any("/a/" in link["url"] for link in m.links) for m in asked)

    await harness.act(handle, "decide_kit_answer", DecideAnswer(answer_id=GIVEAWAY, version=2, person=PIOTR, decision="approve"))
    await harness.act(
        handle,
        "decide_kit_answer",
        DecideAnswer(answer_id=GIVEAWAY, version=2, person=KASIA, decision="reject", comment="Name the platform."),
    )
    (told,) = await _mails(harness, plan.id, "answer_revision", 1)
    assert told.person_id == ANNA and told.body.endswith("v2: Name the platform. Propose a new version.")

    await harness.act(handle, "propose_kit_answer", ProposeAnswer(answer_id=GIVEAWAY, person=ANNA, text=REVISED))
    await _mails(harness, plan.id, "answer_approval", 4)
    for person in (PIOTR, KASIA):
        await harness.act(
            handle, "decide_kit_answer", DecideAnswer(answer_id=GIVEAWAY, version=3, person=person, decision="approve")
        )
    state = await harness.state(handle)
    entry = next(a for a in state["answers_kit"] if a["id"] == GIVEAWAY)
    assert (entry["text"], entry["version"], entry["source"]) == (REVISED, 3, "incident")
    kinds = [e["kind"] for e in state["timeline"] if e["kind"].startswith("answer_")]
    assert kinds == [
        "answer_proposed",
        "answer_approved_by",
        "answer_rejected",
        "answer_proposed",
        "answer_approved_by",
        "answer_approved_by",
        "answer_approved",
    ]

    final = await harness.drive_to_closed(handle)
    assert final["status"] == "closed"
    published = [m for m in await harness.outbox(plan.id) if m.channel == "public"]
    assert published and not any("giveaway is a scam" in m.body for m in published)
    assert not any("giveaway is a scam" in s["text"] for s in final["statements"])
    recorded = [row.kind for row in await harness.timeline(plan.id) if row.kind.startswith("answer_")]
    assert recorded == kinds
