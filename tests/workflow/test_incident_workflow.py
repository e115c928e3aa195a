"""IncidentWorkflow on the time-skipping server: hours of deadlines pass in milliseconds."""

import asyncio
import json
from datetime import datetime, timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from channels.base import ChannelKind, Delivery, OutgoingMessage
from domain.actions import Acknowledge, Assessment, DecideStatement, Reassessment, Resolution, StatementDraft, TaskDone
from domain.messages import DeliveryFailure
from domain.promise import word_promise
from domain.severity import Severity
from domain.variants import Variant, variant_sha256
from tests.driver import next_step
from tests.workflow.harness import open_harness
from workflows.incident import IncidentWorkflow
from workflows.search_attributes import CRISIS_SEVERITY

PLAYBOOKS = ["technical_outage", "account_compromise", "controversial_post", "customer_backlash", "misinformation", "data_breach"]


@pytest.mark.parametrize("playbook", PLAYBOOKS)
async def test_every_playbook_reaches_closed(harness, playbook):
    handle = await harness.start(harness.plan(playbook))
    final = await harness.drive_to_closed(handle)
    assert final["phase"] == "closed" and final["status"] == "closed"
    kinds = [s["kind"] for s in final["statements"] if s["status"] == "published"]
    assert kinds[0] == "holding" and kinds[-1] == "resolution"
    assert all(t["status"] == "done" for t in final["tasks"])
    assert final["review"]["action_items"][0]["title"] == "Add a second legal approver"
    phases = [e["data"]["phase"] for e in final["timeline"] if e["kind"] == "phase_changed"]
    assert phases == ["assess", "respond", "communicate", "review", "closed"]
    # A notice sent beside the flow (the resolution's briefing) can be recorded after the close: the
    # result is a summary counting every event, and the read model has all of them.
    result = await handle.result()
    rows = await harness.timeline(final["id"])
    assert result.status == "closed" and result.runs == 1 and result.metrics.incident_id == final["id"]
    assert [r.seq for r in rows] == list(range(1, result.events + 1))


async def test_unacknowledged_page_escalates_after_its_deadline(harness, catalog):
    plan = harness.plan("account_compromise", severity=Severity.SEV1)
    handle = await harness.start(plan)
    first, second = catalog.roster.org_chart().members("incident_commander")[:2]
    await harness.until(handle, lambda s: any(e["kind"] == "paged" and e["data"]["person"] == first for e in s["timeline"]))
    within = plan.playbook.identify.acknowledge_within.at(Severity.SEV1)
    await harness.env.sleep(within + timedelta(seconds=1))
    state = await harness.until(
        handle, lambda s: any(e["kind"] == "paged" and e["data"]["person"] == second for e in s["timeline"])
    )
    messages = [e["message"] for e in state["timeline"]]
    assert any(m.startswith(f"No acknowledgement from {first}") for m in messages)
    assert any(m.startswith(f"Escalated to {second} (incident_commander, level 2") for m in messages)
    deadline = next(d for d in state["deadlines"] if d["name"] == "acknowledge.incident_commander")
    assert deadline["status"] == "overdue"
    outbox = await harness.outbox(plan.id)
    pages = [(m.person_id, m.channel) for m in outbox if m.kind == "page"]
    assert (second, "sms") in pages and (second, "email") in pages
    await harness.act(handle, "acknowledge", Acknowledge(person=second))
    state = await harness.state(handle)
    assert state["phase"] == "assess"
    assert next(d for d in state["deadlines"] if d["name"] == "acknowledge.incident_commander")["status"] == "missed"


async def test_overdue_task_is_reminded_then_passed_down_the_role(harness, catalog):
    plan = harness.plan("technical_outage")
    handle = await harness.start(plan)
    state = await harness.until(handle, lambda s: s["pending"])
    while acks := [p for p in state["pending"] if p["kind"] == "acknowledge"]:
        await harness.act(handle, "acknowledge", Acknowledge(person=acks[0]["people"][0]))
        state = await harness.state(handle)
    commander = next(p for p in state["pending"] if p["kind"] == "assessment")["people"][0]
    await harness.act(handle, "assess", Assessment(person=commander, severity=Severity.SEV2))
    state = await harness.until(handle, lambda s: s["tasks"])
    task = state["tasks"][0]
    spec = next(t for t in plan.playbook.respond.tasks if t.id == task["id"])
    await harness.env.sleep(spec.due_after + timedelta(seconds=1))
    await harness.until(
        handle, lambda s: any(e["kind"] == "task_reminded" and e["data"]["task_id"] == task["id"] for e in s["timeline"])
    )
    await harness.env.sleep(plan.playbook.respond.escalate_after + timedelta(seconds=1))
    state = await harness.until(
        handle, lambda s: any(e["kind"] == "task_escalated" and e["data"]["task_id"] == task["id"] for e in s["timeline"])
    )
    chain = catalog.roster.org_chart().members(task["owner"])
    moved = next(t for t in state["tasks"] if t["id"] == task["id"])
    assert moved["assignee"] == chain[chain.index(task["assignee"]) + 1]
    outbox = await harness.outbox(plan.id)
    assert any(m.kind == "reminder" and m.person_id == task["assignee"] for m in outbox)
    assert any(m.kind == "task" and m.person_id == moved["assignee"] and "passed to you" in m.body for m in outbox)


async def _to_communicate(harness, handle):
    state = await harness.until(handle, lambda s: s["pending"])
    while state["phase"] != "communicate" or not any(p["kind"] == "approval" for p in state["pending"]):
        step = next_step(state)
        if step and step.update != "resolve":
            await harness.act(handle, step.update, step.update_input())
        state = await harness.until(handle, lambda s: True)
    return state


async def test_rejection_needs_a_new_version_and_old_versions_cannot_be_decided(harness):
    handle = await harness.start(harness.plan("misinformation"))
    state = await _to_communicate(harness, handle)
    approval = next(p for p in state["pending"] if p["kind"] == "approval")
    await harness.act(
        handle,
        "decide_statement",
        DecideStatement(version=1, person=approval["people"][0], decision="reject", comment="Cite the source"),
    )
    state = await harness.state(handle)
    draft = next(p for p in state["pending"] if p["kind"] == "statement_draft")
    await harness.act(
        handle, "submit_statement", StatementDraft(person=draft["people"][0], text="Corrected: the claim is false.")
    )
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await harness.act(
            handle, "decide_statement", DecideStatement(version=1, person=approval["people"][0], decision="approve")
        )
    assert refused.value.cause.type == "Rejected.conflict"
    state = await harness.state(handle)
    assert [s["status"] for s in state["statements"]] == ["rejected", "pending_approval"]
    assert {p["version"] for p in state["pending"] if p["kind"] == "approval"} == {2}


async def test_approvers_get_their_link_by_sms_and_the_author_hears_of_requested_changes(harness):
    plan = harness.plan("misinformation")
    handle = await harness.start(plan)
    state = await _to_communicate(harness, handle)
    approval = next(p for p in state["pending"] if p["kind"] == "approval")
    for channel in ("sms", "email"):
        await harness.until_sent(plan.id, "approval", approval["people"][0], channel)
    texts = [m for m in await harness.outbox(plan.id) if m.kind == "approval" and m.channel == "sms"]
    assert texts and all("http://test/a/" in m.body for m in texts)
    emails = [m for m in await harness.outbox(plan.id) if m.kind == "approval" and m.channel == "email"]
    assert emails and all(m.subject == f"[{state['severity']}] Approve statement v1: {plan.title}" for m in emails)
    await harness.act(
        handle,
        "decide_statement",
        DecideStatement(version=1, person=approval["people"][0], decision="reject", comment="Cite the source"),
    )
    author = next(a["acknowledged_by"] for a in state["acknowledgements"] if a["role"] == plan.playbook.communicate.author)
    await harness.until_emailed(plan.id, "revision", author)
    told = next(m for m in await harness.outbox(plan.id) if m.kind == "revision" and m.channel == "email")
    assert "Cite the source" in told.body and told.subject.endswith(plan.title)


async def test_the_holding_statement_goes_to_approval_at_the_holding_point_whatever_the_assessment(harness):
    plan = harness.commander_only(harness.plan("misinformation", severity=Severity.SEV2))
    handle = await harness.start(plan)
    state = await harness.until(handle, lambda s: any(p["kind"] == "acknowledge" for p in s["pending"]))
    commander = next(p for p in state["pending"] if p["kind"] == "acknowledge")["people"][0]
    await harness.act(handle, "acknowledge", Acknowledge(person=commander))
    holding_point = plan.playbook.holding_point(Severity.SEV2)
    await harness.env.sleep(holding_point + timedelta(seconds=1))
    state = await harness.until(handle, lambda s: any(p["kind"] == "approval" for p in s["pending"]))
    assert state["phase"] == "assess" and state["assessment"] is None
    assert [(v["kind"], v["status"]) for v in state["statements"]] == [("holding", "pending_approval")]
    started = next(e for e in state["timeline"] if e["kind"] == "holding_on_time")
    assert datetime.fromisoformat(started["at"]) - datetime.fromisoformat(state["declared_at"]) >= holding_point
    for item in [p for p in state["pending"] if p["kind"] == "approval"]:
        await harness.act(handle, "decide_statement", DecideStatement(version=1, person=item["people"][0], decision="approve"))
    state = await harness.until(handle, lambda s: s["statements"][0]["status"] == "published")
    assert state["phase"] == "assess"
    assert next(d for d in state["deadlines"] if d["name"] == "first_statement")["status"] == "met"
    final = await harness.drive_to_closed(handle)
    phases = [e["data"]["phase"] for e in final["timeline"] if e["kind"] == "phase_changed"]
    assert phases == ["assess", "respond", "communicate", "review", "closed"]
    assert [v["kind"] for v in final["statements"] if v["status"] == "published"][0] == "holding"


async def test_a_reassessment_reaches_everyone_paged_and_every_later_message_shows_it(harness):
    plan = harness.plan("technical_outage", severity=Severity.SEV3)
    handle = await harness.start(plan)
    state = await _to_communicate(harness, handle)
    assert state["severity"] == "SEV2"  # the driver's assessment: high impact, medium reach
    commander = next(a["acknowledged_by"] for a in state["acknowledgements"] if a["role"] == "incident_commander")
    paged = list(dict.fromkeys(page["person"] for a in state["acknowledgements"] for page in a["pages"]))
    await harness.act(
        handle,
        "reassess",
        Reassessment(person=commander, severity=Severity.SEV1, reason="Stores cannot take card payments either."),
    )
    for person in paged:
        await harness.until_emailed(plan.id, "severity", person)
    outbox = await harness.outbox(plan.id)
    told = [m for m in outbox if m.kind == "severity"]
    # The roles nobody acknowledged keep escalating while the test looks, so a page may land between
    # the snapshot and the re-assessment: everyone paged by then is told, and nobody never paged.
    paged_since = {page["person"] for a in (await harness.state(handle))["acknowledgements"] for page in a["pages"]}
    told_people = {m.person_id for m in told}
    assert set(paged) <= told_people <= paged_since, (paged, told_people, paged_since)
    assert all(m.subject.startswith("[SEV1] ") for m in told if m.channel == "email")
    assert any("Stores cannot take card payments either." in m.body for m in told if m.channel == "sms")
    for _ in range(100):
        briefed = [m for m in await harness.outbox(plan.id) if m.kind == "briefing.reassessed"]
        if briefed:
            break
        await asyncio.sleep(0.05)
    assert briefed and all(m.subject.startswith("[INTERNAL] [SEV1] ") for m in briefed)
    author = next(a["acknowledged_by"] for a in state["acknowledgements"] if a["role"] == "comms_lead")
    await harness.act(
        handle, "submit_statement", StatementDraft(person=author, text="Card payments fail in the app and in stores.")
    )
    for _ in range(100):
        second_round = [
            m for m in await harness.outbox(plan.id) if m.kind == "approval" and m.channel == "email" and "v2" in m.subject
        ]
        if second_round:
            break
        await asyncio.sleep(0.05)
    assert second_round and all(m.subject.startswith("[SEV1] Approve statement v2") for m in second_round)
    state = await harness.state(handle)
    assert state["severity"] == "SEV1"
    description = await handle.describe()
    assert description.typed_search_attributes.get(CRISIS_SEVERITY) == "SEV1"


async def test_the_holding_statement_promises_the_next_update_in_the_organisation_s_time_and_keeps_it(harness):
    plan = harness.plan("technical_outage", severity=Severity.SEV2)
    handle = await harness.start(plan)
    state = await _to_communicate(harness, handle)
    holding = state["statements"][0]
    promise = datetime.fromisoformat(holding["promise"])
    drafted = datetime.fromisoformat(holding["created_at"])
    communicate = plan.playbook.communicate
    assert promise >= drafted + communicate.approval_within.at(Severity.SEV2) + communicate.update_every.at(Severity.SEV2)
    assert promise.minute % 5 == 0 and promise - drafted < timedelta(hours=1, minutes=15)
    assert f"by {word_promise(promise, drafted, 'Europe/Warsaw', 'en')}" in holding["text"] and "CET" in holding["text"]
    for item in [p for p in state["pending"] if p["kind"] == "approval"]:
        await harness.act(handle, "decide_statement", DecideStatement(version=1, person=item["people"][0], decision="approve"))
    state = await harness.until(handle, lambda s: s["statements"][0]["status"] == "published")
    assert next(d for d in state["deadlines"] if d["name"] == "update.1")["due_at"] == holding["promise"]
    lead = communicate.approval_within.at(Severity.SEV2)
    await harness.env.sleep(
        promise - datetime.fromisoformat(state["statements"][0]["published_at"]) - lead + timedelta(seconds=2)
    )
    state = await harness.until(handle, lambda s: len(s["statements"]) == 2)
    update = state["statements"][1]
    assert update["kind"] == "update" and datetime.fromisoformat(update["created_at"]) <= promise - lead + timedelta(seconds=2)


@pytest.mark.parametrize(
    "update, action, kind, message",
    [
        ("acknowledge", Acknowledge(person="nobody"), "Rejected.invalid", "not in the team roster"),
        ("assess", Assessment(person="ewa.lewandowska", severity=Severity.SEV1), "Rejected.conflict", "identify phase"),
        ("task_done", TaskDone(task_id="lock_account", person="ewa.lewandowska"), "Rejected.invalid", "unknown task"),
        ("resolve", Resolution(person="ewa.lewandowska", summary="over"), "Rejected.conflict", "identify phase"),
        (
            "decide_statement",
            DecideStatement(version=1, person="ewa.lewandowska", decision="approve"),
            "Rejected.invalid",
            "no statement version 1",
        ),
    ],
)
async def test_invalid_updates_are_rejected_and_change_nothing(harness, update, action, kind, message):
    handle = await harness.start(harness.plan("account_compromise"))
    before = await harness.until(handle, lambda s: s["pending"])
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await harness.act(handle, update, action)
    assert refused.value.cause.type == kind
    assert message in refused.value.cause.message
    after = await harness.state(handle)
    assert after["phase"] == before["phase"]
    history = await handle.fetch_history()
    assert not any(e.HasField("workflow_execution_update_accepted_event_attributes") for e in history.events)


async def test_resolved_before_any_statement_skips_straight_to_review(harness):
    handle = await harness.start(harness.plan("customer_backlash"))
    state = await harness.until(handle, lambda s: s["pending"])
    commander = next(p for p in state["pending"] if p["role"] == "incident_commander")["people"][0]
    await harness.act(handle, "acknowledge", Acknowledge(person=commander))
    await harness.until(handle, lambda s: s["phase"] == "assess")
    await harness.act(handle, "resolve", Resolution(person=commander, summary="False alarm: a parody account."))
    state = await harness.until(handle, lambda s: s["phase"] == "review")
    assert state["statements"] == []
    final = await harness.drive_to_closed(handle)
    assert final["status"] == "closed"


async def test_updates_follow_the_cadence_until_resolved(harness):
    plan = harness.plan("technical_outage", severity=Severity.SEV2)
    handle = await harness.start(plan)
    state = await _to_communicate(harness, handle)
    for item in [p for p in state["pending"] if p["kind"] == "approval"]:
        await harness.act(
            handle, "decide_statement", DecideStatement(version=item["version"], person=item["people"][0], decision="approve")
        )
    state = await harness.until(handle, lambda s: any(x["status"] == "published" for x in s["statements"]))
    assert state["next_update_due"] is not None
    published_at = datetime.fromisoformat(state["statements"][0]["published_at"])
    # Drafted the approvers' window before the promised time, so that it can be public by then.
    lead = plan.playbook.communicate.approval_within.at(Severity.SEV2)
    await harness.env.sleep(datetime.fromisoformat(state["next_update_due"]) - published_at - lead + timedelta(seconds=1))
    state = await harness.until(handle, lambda s: len(s["statements"]) == 2)
    assert state["statements"][1]["kind"] == "update"
    assert any(p["kind"] == "approval" and p["version"] == 2 for p in state["pending"])


async def test_search_attributes_follow_the_phase(harness):
    handle = await harness.start(harness.plan("controversial_post", drill=True))
    await harness.until(handle, lambda s: s["pending"])
    state = await harness.state(handle)
    commander = next(p for p in state["pending"] if p["role"] == "incident_commander")["people"][0]
    await harness.act(handle, "acknowledge", Acknowledge(person=commander))
    await harness.act(handle, "assess", Assessment(person=commander, impact="extreme", reach="low"))

    async def attributes():
        description = await handle.describe()
        return {pair.key.name: pair.value for pair in description.typed_search_attributes if pair.key.name.startswith("Crisis")}

    for _ in range(100):
        found = await attributes()
        if found.get("CrisisPhase") == "respond":
            break
        await asyncio.sleep(0.05)
    assert found == {
        "CrisisScenario": "controversial_post",
        "CrisisSeverity": "SEV1",
        "CrisisPhase": "respond",
        "CrisisDrill": True,
    }


async def test_an_undelivered_page_is_sent_again_on_the_other_channel(harness, catalog):
    plan = harness.plan("technical_outage")
    handle = await harness.start(plan)
    first = catalog.roster.org_chart().members("incident_commander")[0]
    await harness.until(handle, lambda s: any(e["kind"] == "paged" and e["data"]["person"] == first for e in s["timeline"]))
    failure = DeliveryFailure(
        ledger_key=f"{plan.id}/page.incident_commander.0.0/sms", person=first, channel="sms", reason="30003 unreachable"
    )
    await handle.signal(IncidentWorkflow.delivery_failed, failure)
    await handle.signal(IncidentWorkflow.delivery_failed, failure)
    state = await harness.until(handle, lambda s: any(e["kind"] == "delivery_failed" for e in s["timeline"]))
    assert [e["message"] for e in state["timeline"] if e["kind"] == "delivery_failed"] == [
        f"sms to {first} did not arrive (30003 unreachable); sent again by email"
    ]
    for _ in range(100):
        resent = [
            m for m in await harness.outbox(plan.id) if m.ledger_key.endswith("page.incident_commander.0.0.fallback.email/email")
        ]
        if resent:
            break
        await asyncio.sleep(0.05)
    assert len(resent) == 1 and resent[0].person_id == first and "did not arrive" in resent[0].body


async def test_a_failure_report_for_an_unknown_message_changes_nothing(harness):
    plan = harness.plan("technical_outage")
    handle = await harness.start(plan)
    await harness.until(handle, lambda s: s["pending"])
    await handle.signal(
        IncidentWorkflow.delivery_failed,
        DeliveryFailure(ledger_key="x/y/sms", person="ewa.lewandowska", channel="sms", reason="?"),
    )
    state = await harness.state(handle)
    assert not any(e["kind"] == "delivery_failed" for e in state["timeline"])


async def test_the_fallback_holding_statement_goes_out_when_approvals_do_not_arrive(harness):
    plan = harness.plan("technical_outage", severity=Severity.SEV2)
    handle = await harness.start(plan)
    await _to_communicate(harness, handle)
    await harness.env.sleep(plan.playbook.communicate.fallback_after + timedelta(seconds=1))
    state = await harness.until(handle, lambda s: any(x["fallback"] and x["status"] == "published" for x in s["statements"]))
    fallback = next(x for x in state["statements"] if x["fallback"])
    assert fallback["author"] == "fallback" and fallback["kind"] == "holding" and not fallback["mismatch"]
    status_page = next(v for v in fallback["variants"] if v["channel"] == "status_page")
    assert [(r["variant"], r["sha256"]) for r in fallback["receipts"]] == [
        ("status_page", variant_sha256(Variant.model_validate(status_page)))
    ]
    assert state["statements"][0]["status"] == "superseded"
    assert any(e["kind"] == "fallback_statement" for e in state["timeline"])
    public = [m for m in await harness.outbox(plan.id) if m.channel == "public"]
    assert len(public) == 1 and public[0].body == fallback["text"]


async def test_approvers_are_reminded_then_the_next_approver_is_asked(harness, catalog):
    plan = harness.plan("controversial_post", severity=Severity.SEV2)
    handle = await harness.start(plan)
    state = await _to_communicate(harness, handle)
    version = next(p["version"] for p in state["pending"] if p["kind"] == "approval")
    statement = state["statements"][-1]
    due = next(d for d in state["deadlines"] if d["name"] == "first_statement")["due_at"]
    remaining = datetime.fromisoformat(due) - datetime.fromisoformat(statement["created_at"])
    await harness.env.sleep(remaining / 2 + timedelta(seconds=1))
    await harness.until(
        handle, lambda s: any(e["kind"] == "reminder_sent" and e["data"].get("version") == version for e in s["timeline"])
    )
    reminders = [m for m in await harness.outbox(plan.id) if m.kind == "approval" and m.subject.startswith("Reminder: ")]
    assert {m.person_id for m in reminders} == {
        catalog.roster.org_chart().members(r)[0] for r in plan.playbook.communicate.approvers
    }
    await harness.env.sleep(remaining / 2 + timedelta(seconds=1))
    state = await harness.until(handle, lambda s: any(e["kind"] == "approval_escalated" for e in s["timeline"]))
    escalated = {e["data"]["role"]: e["data"]["person"] for e in state["timeline"] if e["kind"] == "approval_escalated"}
    assert escalated == {r: catalog.roster.org_chart().members(r)[1] for r in plan.playbook.communicate.approvers}
    backup = escalated[plan.playbook.communicate.approvers[0]]
    await harness.act(handle, "decide_statement", DecideStatement(version=version, person=backup, decision="approve"))
    state = await harness.state(handle)
    assert state["statements"][-1]["decisions"][0]["person"] == backup


async def test_schedulers_pause_at_declaration_and_resume_at_close_and_unknown_targets_are_reported(harness):
    plan = harness.plan("account_compromise")
    communicate = plan.playbook.communicate.model_copy(
        update={"pause_scheduled_posts": ["outbox"], "publish_to": ["outbox", "status_page"]}
    )
    plan = plan.model_copy(update={"playbook": plan.playbook.model_copy(update={"communicate": communicate})})
    handle = await harness.start(plan)
    await harness.drive_to_closed(handle)
    await handle.result()  # the resume goes beside the flow: it may still be on its way at 'closed'
    final = await harness.state(handle)  # the closed incident still answers the query
    told = [e for e in final["timeline"] if e["kind"] == "schedulers_told"]
    assert [e["data"]["event"] for e in told] == ["social.pause", "social.resume"]
    # At declaration: the pause goes out in the first workflow task, beside the first pages (which
    # of them the outbox takes first is up to the activity slots).
    history = await handle.fetch_history()
    scheduled_by = {
        event.activity_task_scheduled_event_attributes.activity_id: (
            event.activity_task_scheduled_event_attributes.workflow_task_completed_event_id
        )
        for event in history.events
        if event.HasField("activity_task_scheduled_event_attributes")
    }
    first_task = min(scheduled_by.values())
    assert scheduled_by["social.pause"] == first_task
    assert any(key.startswith("page.") and task == first_task for key, task in scheduled_by.items())
    kinds = [m.kind for m in await harness.outbox(plan.id) if m.channel == "public"]
    assert "social.pause" in kinds and "social.resume" in kinds
    failed = [e for e in final["timeline"] if e["kind"] == "publication_failed"]
    assert failed and all("status_page" in e["message"] and "not configured" in e["message"] for e in failed)
    published = [s for s in final["statements"] if s["status"] == "published"]
    assert all({r["channel"] for r in s["receipts"]} == {"outbox", "status_page"} and not s["mismatch"] for s in published)


async def test_stakeholders_are_briefed_at_each_milestone(harness, catalog):
    plan = harness.plan("technical_outage")
    handle = await harness.start(plan)
    await harness.drive_to_closed(handle)
    await handle.result()  # the resolution's briefing, beside the flow, may be recorded after the close
    final = await harness.state(handle)  # a closed incident still answers the query
    briefings = [m for m in await harness.outbox(plan.id) if m.kind.startswith("briefing.")]
    events = {m.kind.removeprefix("briefing.") for m in briefings}
    assert events == {"declared", "acknowledged", "published", "resolved"}
    expected = set(catalog.roster.stakeholder_people(plan.playbook.stakeholders))
    assert {m.person_id for m in briefings if m.kind == "briefing.declared"} == expected
    assert all(m.channel == "email" for m in briefings)
    assert {e["data"]["event"] for e in final["timeline"] if e["kind"] == "stakeholders_briefed"} == {
        "declared",
        "acknowledged",
        "published",
        "resolved",
    }


class NumberedPosts:
    """A publishing target that answers each post with an id, as a social network does."""

    name = "numbered"

    def __init__(self) -> None:
        self.posts: list[OutgoingMessage] = []

    async def send(self, message: OutgoingMessage) -> Delivery:
        self.posts.append(message)
        return Delivery(channel=self.name, accepted=True, provider_id=f"post-{len(self.posts)}")


async def test_later_statements_answer_each_targets_first_post_with_the_status_page_details(time_skipping_env, catalog, tmp_path):
    target = NumberedPosts()
    async with open_harness(time_skipping_env, catalog, tmp_path / "crisis.db", {ChannelKind.PUBLIC: target}) as harness:
        plan = harness.plan("technical_outage")
        assert plan.playbook.communicate.publish_to is None  # the built-in playbooks publish wherever a target is set up
        handle = await harness.start(plan)
        final = await harness.drive_to_closed(handle)
        history = await handle.fetch_history()
    published = [s for s in final["statements"] if s["status"] == "published"]
    assert len(published) >= 2
    first_post = {r["channel"]: r["provider_id"] for r in published[0]["receipts"]}
    assert first_post == {"outbox": "post-1"}
    inputs = {
        event.activity_task_scheduled_event_attributes.activity_id: json.loads(
            event.activity_task_scheduled_event_attributes.input.payloads[0].data
        )
        for event in history.events
        if event.HasField("activity_task_scheduled_event_attributes")
        and event.activity_task_scheduled_event_attributes.activity_type.name == "publish"
    }
    first, *later = [inputs[f"publish.v{s['version']}"] for s in published]
    assert first["threads"] == {} and first["targets"] is None
    assert all(publication["threads"] == first_post for publication in later)
    assert [m.post.thread for m in target.posts if m.kind.startswith("statement.")] == [None] + ["post-1"] * len(later)
    assert {publication["severity"] for publication in inputs.values()} == {plan.severity.value}
    assert first["status_page_name"] == "Service disruption" and plan.title not in first["status_page_name"]


class SocialNetwork(NumberedPosts):
    """A social network whose posts get one reply each."""

    name = "x"

    async def replies(self, post_id: str):
        from channels.social import Reply

        return [Reply(id=f"reply-to-{post_id}", author="@angry_customer", text="This is terrible, I was charged twice!")]


async def test_replies_to_our_posts_are_read_into_the_listening_stream_until_the_close(time_skipping_env, catalog, tmp_path):
    from store import mentions as mention_store

    network = SocialNetwork()
    async with open_harness(time_skipping_env, catalog, tmp_path / "crisis.db", publishing={"x": network}) as harness:
        plan = harness.plan("technical_outage")
        handle = await harness.start(plan)
        final = await harness.drive_to_closed(handle)
        # The state reads closed before the last read of the replies, which runs at the close: the
        # workflow's result comes after it.
        await handle.result()
        async with harness.sessions() as session:
            replies = await mention_store.incident_replies(session, plan.id)
        history = await handle.fetch_history()
    first = next(s for s in final["statements"] if s["status"] == "published")
    assert {r["channel"] for r in first["receipts"]} == {"x", "outbox"}
    read = [
        e
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
        and e.activity_task_scheduled_event_attributes.activity_type.name == "watch_replies"
    ]
    assert read  # at least the read at the close
    assert {(row.external_id, row.statement_version, row.platform) for row in replies} >= {
        ("reply-to-post-1", first["version"], "x")
    }
    assert all(row.negative for row in replies)


class AngryCrowd(NumberedPosts):
    """A social network where each of our posts draws the same angry replies, and the first also kind ones."""

    name = "mastodon"

    async def replies(self, post_id: str):
        from channels.social import Reply

        angry = [
            Reply(
                id=f"{post_id}-angry-{n}",
                author=f"@customer{n}",
                text="This is terrible, I was charged twice and nobody answers!",
            )
            for n in range(4)
        ]
        kind = [
            Reply(id=f"{post_id}-kind-{n}", author=f"@fan{n}", text="Thank you for the quick update, great work.")
            for n in range(2)
        ]
        return angry + (kind if post_id == "post-1" else [])


async def test_a_surge_of_negative_replies_to_a_statement_raises_a_signal_on_the_incident(time_skipping_env, catalog, tmp_path):
    from domain.listening import RepliesWatch
    from store import mentions as mention_store

    async with open_harness(time_skipping_env, catalog, tmp_path / "crisis.db", publishing={"mastodon": AngryCrowd()}) as harness:
        plan = harness.plan("technical_outage")
        book = plan.playbook
        watch = RepliesWatch.model_validate({"read_every": "1m", "surge": {"min_negative": 4, "negative_share": 0.7}})
        plan = plan.model_copy(
            update={"playbook": book.model_copy(update={"communicate": book.communicate.model_copy(update={"replies": watch})})}
        )
        handle = await harness.start(plan)
        await harness.drive_to_closed(handle)
        await handle.result()
        final = await harness.state(handle)  # the closed incident still answers the query
        async with harness.sessions() as session:
            signals = await mention_store.signals_of_incident(session, plan.id)
        timeline = await harness.timeline(plan.id)
        history = await handle.fetch_history()
        told = [m for m in await harness.outbox(plan.id) if m.kind == "reply_surge"]

    published = [s for s in final["statements"] if s["status"] == "published"]
    first, *later = [s["version"] for s in published]
    # The comms lead on duty is emailed once per surge, with the numbers.
    assert len(told) == len(later) and all(m.channel == "email" for m in told)
    assert {m.person_id for m in told} <= set(catalog.roster.org_chart().members(plan.playbook.communicate.author))
    assert sorted(m.subject for m in told) == sorted(
        f"Negative replies are surging under statement v{v}: {plan.title}" for v in later
    )
    assert all("4 of 4 replies" in m.body for m in told)
    assert later, "an update or the resolution was published too"
    # The first statement drew 4 angry replies of 6 (67 %, under the 70 % asked): no surge. Every
    # later one drew only angry ones: one signal each, on the timeline once however often it is read.
    assert sorted(signal.evidence["statement_version"] for signal in signals) == later
    assert {signal.status for signal in signals} == {"raised"} and all(signal.incident_id == plan.id for signal in signals)
    surges = [event for event in timeline if event.kind == "reply_surge"]
    assert sorted(event.data["version"] for event in surges) == later
    assert sorted(event.data["signal"] for event in surges) == sorted(signal.id for signal in signals)
    assert all("4 of 4 replies" in event.message for event in surges)
    kinds = {
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    }
    assert "watch_replies" in kinds and "read_replies" not in kinds
