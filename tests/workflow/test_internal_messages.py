"""Internal and partner messages on the time-skipping server: when the communicate phase starts,
each internal audience of the playbook gets its message drafted from its own template, marked
internal, put to the statement's approvers by email (with a single-use link), revised when they
ask for changes, and emailed to the audience's roster groups (distribution lists) once approved."""

import hashlib

import pytest
from temporalio.client import WorkflowUpdateFailedError

from domain.actions import DecideInternal, ReviseInternal
from tests.driver import next_step
from tests.workflow.test_incident_workflow import _to_communicate

EWA, ANNA, JAKUB = "ewa.lewandowska", "anna.kowalska", "jakub.mazur"


async def test_each_audience_gets_its_message_approved_then_emailed_to_its_groups(harness):
    plan = harness.plan("technical_outage")
    handle = await harness.start(plan)
    await _to_communicate(harness, handle)
    state = await harness.until(handle, lambda s: len(s["internal_messages"]) == 2)
    staff, stores = state["internal_messages"]
    assert (staff["audience"], staff["name"], staff["version"], staff["status"]) == (
        "all_staff",
        "All staff",
        1,
        "pending_approval",
    )
    assert staff["text"].startswith("INTERNAL – for All staff only. Do not forward, post or quote it outside the company.\n\n")
    assert f"We are dealing with a service problem: {plan.title}." in staff["text"], (
        "internal text may name the incident as the team knows it"
    )
    assert stores["text"].startswith("INTERNAL – for Store and franchise staff only.")
    asked = [p for p in state["pending"] if p["kind"] == "internal_approval" and p["audience"] == "all_staff"]
    assert [(p["role"], p["people"][0]) for p in asked] == [("incident_commander", EWA), ("engineering_on_call", JAKUB)]

    for approver in (EWA, JAKUB):  # the requests go beside the flow: pending may show before they are sent
        await harness.until_emailed(plan.id, "internal_approval", approver)
    mails = [m for m in await harness.outbox(plan.id) if m.kind == "internal_approval"]
    assert {(m.person_id, m.channel) for m in mails} >= {(EWA, "email"), (JAKUB, "email")}
    assert any("/a/" in link["url"] for m in mails for link in m.links)

    await harness.act(
        handle,
        "decide_internal_message",
        DecideInternal(audience="all_staff", version=1, person=JAKUB, decision="reject", comment="Name the status page."),
    )
    await harness.until(handle, lambda s: any(p["kind"] == "internal_draft" for p in s["pending"]))
    revised = "We are dealing with an ordering outage. Refer everyone to status.northwind.example."
    await harness.act(handle, "revise_internal", ReviseInternal(audience="all_staff", person=ANNA, text=revised))
    for person in (EWA, JAKUB):
        await harness.act(
            handle, "decide_internal_message", DecideInternal(audience="all_staff", version=2, person=person, decision="approve")
        )
    state = await harness.until(handle, lambda s: s["internal_messages"][-1]["status"] == "sent")
    sent = state["internal_messages"][-1]
    assert (sent["audience"], sent["version"], sent["reached"]) == ("all_staff", 2, 1)
    assert sent["text"] == f"INTERNAL – for All staff only. Do not forward, post or quote it outside the company.\n\n{revised}"

    outbox = await harness.outbox(plan.id)
    comms_lead = next(a["acknowledged_by"] for a in state["acknowledgements"] if a["role"] == "comms_lead")
    assert [m.person_id for m in outbox if m.kind == "internal_revision"] == [comms_lead], (
        "the comms lead on duty hears the requested changes"
    )
    emailed = [m for m in outbox if m.kind == "internal"]
    to_list = hashlib.sha256(b"all-staff@northwind.example").hexdigest()[
        :16
    ]  # the outbox keys a list's email by its address' hash
    assert [(m.ledger_key.rsplit("/", 1)[1], m.person_id, m.subject) for m in emailed] == [
        (to_list, None, f"[INTERNAL] All staff: {plan.title}")
    ]
    assert emailed[0].body == sent["text"]

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await harness.act(handle, "revise_internal", ReviseInternal(audience="all_staff", person=ANNA, text="Again."))
    assert refused.value.cause.message == "the message for 'all_staff' v2 is sent; nothing to revise"

    final = await harness.drive_to_closed(handle)
    store_messages = [m for m in final["internal_messages"] if m["audience"] == "store_staff"]
    assert store_messages[-1]["status"] in ("sent", "withdrawn")


async def test_a_message_never_approved_is_withdrawn_at_close(harness):
    plan = harness.plan("technical_outage")
    handle = await harness.start(plan)
    await _to_communicate(harness, handle)
    await harness.until(handle, lambda s: len(s["internal_messages"]) == 2)
    state = await harness.state(handle)
    while state["status"] != "closed":
        step = next_step({**state, "pending": [p for p in state["pending"] if not p["kind"].startswith("internal")]})
        if step is not None:
            await harness.act(handle, step.update, step.update_input())
        state = await harness.until(handle, lambda s: True)
    assert [m["status"] for m in state["internal_messages"]] == ["withdrawn", "withdrawn"]
    assert not [m for m in await harness.outbox(plan.id) if m.kind == "internal"]
    assert sum(e["kind"] == "internal_withdrawn" for e in state["timeline"]) == 2
