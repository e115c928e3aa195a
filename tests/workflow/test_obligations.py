"""The data-breach playbook's legal clocks on the time-skipping server: 72 hours pass, the missed
GDPR art. 33 deadline is recorded and the commander and the data protection officer are reminded;
the incident stays open until the notification is done."""

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from domain.actions import Acknowledge, Assessment, Resolution, TaskDone

DPO = "magdalena.dabrowska"
EWA = "ewa.lewandowska"


async def test_a_missed_gdpr_deadline_is_recorded_and_reminded(harness):
    plan = harness.plan("data_breach")
    handle = await harness.start(plan)
    await harness.until(handle, lambda s: s["pending"])
    await harness.act(handle, "acknowledge", Acknowledge(person=EWA))
    await harness.act(handle, "assess", Assessment(person=EWA, severity="SEV2"))
    await harness.until(handle, lambda s: s["phase"] == "respond")
    await harness.act(handle, "task_done", TaskDone(task_id="contain_exposure", person=EWA, note="Bucket closed."))
    await harness.env.sleep(timedelta(hours=72, seconds=1))
    state = await harness.until(
        handle,
        lambda s: any(
            e["kind"] == "reminder_sent" and e["data"].get("deadline") == "obligation.gdpr_art33_authority" for e in s["timeline"]
        ),
    )
    missed = [e["data"]["deadline"] for e in state["timeline"] if e["kind"] == "deadline_missed"]
    assert "obligation.gdpr_art33_authority" in missed and "obligation.gdpr_art34_people" in missed
    reminded = {m.person_id for m in await harness.outbox(plan.id) if m.kind == "reminder" and "GDPR art. 33" in m.subject}
    assert reminded == {EWA, DPO}

    refused = await harness.until(handle, lambda s: s["phase"] == "communicate")
    assert any(p["kind"] == "task" and p["task_id"] == "notify_supervisory_authority" for p in refused["pending"])
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await harness.act(handle, "resolve", Resolution(person=EWA, summary="Contained."))
    assert info.value.cause.type == "Rejected.conflict"
    assert "meets an obligation: Supervisory authority notified (GDPR art. 33" in info.value.cause.message
    await harness.act(
        handle,
        "task_done",
        TaskDone(task_id="notify_supervisory_authority", person=DPO, note="UODO case 2026/123, late: see review."),
    )
    state = await harness.state(handle)
    art33 = next(d for d in state["deadlines"] if d["name"] == "obligation.gdpr_art33_authority")
    assert art33["status"] == "missed" and art33["met_at"]
    final = await harness.drive_to_closed(handle)
    assert final["status"] == "closed"
