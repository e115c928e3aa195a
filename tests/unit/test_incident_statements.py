"""Incident: drafting, approving and publishing statements; resolving."""

from datetime import timedelta

import pytest

from domain.actions import Resolution, StatementDecision, StatementDraft, Verdict
from domain.incident import PendingItem, Phase, Rejected, StatementStatus, TaskStatus
from domain.severity import Severity
from domain.statements import StatementKind
from tests.unit.conftest import ANNA, DANIEL, EWA, JAMES, KASIA, OLIVIA, PIOTR, SARAH, SYSTEM, T0, Driver, make_plan, variant

APPROVE = Verdict.APPROVE
REJECT = Verdict.REJECT


def rejection(check, *args) -> Rejected:
    with pytest.raises(Rejected) as info:
        check(*args)
    return info.value


def kinds(items: list[PendingItem]) -> list[str]:
    return [item.kind for item in items]


@pytest.fixture
def communicating(drive: Driver) -> Driver:
    return drive.to_communicate()


@pytest.fixture
def holding(communicating: Driver) -> Driver:
    """A system-drafted holding statement, v1, waiting for approval."""
    communicating.system_draft(StatementKind.HOLDING, "We are securing the account.")
    return communicating


# ---- drafting -------------------------------------------------------------------------------


def test_the_holding_point_is_the_approvers_window_before_the_first_statement_deadline(drive: Driver):
    communicate = drive.incident.playbook.communicate
    assert drive.incident.holding_at() == T0 + communicate.first_statement_within.at(
        Severity.SEV2
    ) - communicate.approval_within.at(Severity.SEV2)
    drive.to_assess()
    drive.assess(severity=Severity.SEV1)
    assert drive.incident.holding_at() == T0 + communicate.first_statement_within.at(
        Severity.SEV1
    ) - communicate.approval_within.at(Severity.SEV1)


def test_at_the_holding_point_statements_open_before_the_assessment(drive: Driver):
    drive.to_assess()
    assert not drive.incident.statements_open()
    assert (
        "cannot draft a statement in the assess phase"
        in rejection(drive.incident.check_statement_draft, StatementDraft(person=ANNA, text="x")).message
    )
    drive.now = drive.incident.holding_at()
    drive.incident.open_statements_early(drive.now)
    assert drive.incident.statements_open() and drive.incident.phase is Phase.ASSESS
    event = drive.state.timeline[-1]
    assert event.kind == "holding_on_time" and "without waiting for the assessment" in event.message
    holding = drive.system_draft(StatementKind.HOLDING)
    approvals = [item for item in drive.incident.pending(drive.now) if item.kind == "approval"]
    assert [item.role for item in approvals] == drive.incident.playbook.communicate.approvers
    assert "assessment" in kinds(drive.incident.pending(drive.now))  # the assessment still waits
    drive.decide(holding.version, KASIA, REJECT, "Too vague")
    revised = drive.draft("We are securing the account; do not click links in our posts.")
    assert revised.kind is StatementKind.HOLDING and revised.status is StatementStatus.PENDING_APPROVAL


def test_the_system_draft_waits_for_approval(holding: Driver):
    v1 = holding.incident.statement(1)
    assert (v1.version, v1.kind, v1.author, v1.status) == (1, StatementKind.HOLDING, SYSTEM, StatementStatus.PENDING_APPROVAL)
    assert holding.incident.in_flight() is v1


def test_the_first_statement_is_a_holding_statement(communicating: Driver):
    assert communicating.incident.next_statement_kind() is StatementKind.HOLDING


def test_drafting_outside_communicate_is_a_conflict(drive: Driver):
    drive.to_respond()
    rejected = rejection(drive.incident.check_statement_draft, StatementDraft(person=ANNA, text="Hello"))
    assert (rejected.kind, rejected.message) == (
        "conflict",
        "cannot draft a statement in the respond phase (only in communicate)",
    )


def test_only_the_author_or_commander_role_may_draft(communicating: Driver):
    rejected = rejection(communicating.incident.check_statement_draft, StatementDraft(person=PIOTR, text="Hello"))
    assert rejected.kind == "invalid"
    assert (
        rejected.message
        == "person: 'piotr.zielinski' cannot draft statements; that needs the role comms_lead or incident_commander"
    )


def test_the_commander_may_draft(communicating: Driver):
    assert communicating.draft("Our own words.", person=JAMES).author == JAMES


def test_a_new_draft_supersedes_the_pending_version(holding: Driver):
    v2 = holding.draft("We are securing the account. Don't click links.")
    assert holding.incident.statement(1).status is StatementStatus.SUPERSEDED
    assert (v2.version, v2.kind, v2.author, v2.status) == (2, StatementKind.HOLDING, ANNA, StatementStatus.PENDING_APPROVAL)
    assert holding.incident.in_flight() is v2


def test_deciding_on_a_superseded_version_is_a_conflict(holding: Driver):
    holding.draft("Better wording.")
    rejected = rejection(holding.incident.check_decision, 1, StatementDecision(person=PIOTR, decision=APPROVE))
    assert (rejected.kind, rejected.message) == ("conflict", "statement version 1 is superseded; nothing to decide")


def test_drafting_while_a_version_is_approved_is_a_conflict(holding: Driver):
    holding.approve_all(1)
    rejected = rejection(holding.incident.check_statement_draft, StatementDraft(person=ANNA, text="Wait"))
    assert rejected.kind == "conflict"
    assert rejected.message == "version 1 is approved and being published; draft again after it is out"


# ---- deciding -------------------------------------------------------------------------------


def test_one_approver_role_is_not_enough(holding: Driver):
    holding.decide(1, PIOTR)
    v1 = holding.incident.statement(1)
    assert v1.status is StatementStatus.PENDING_APPROVAL
    assert holding.incident.outstanding_approver_roles(v1) == ["legal"]


def test_every_approver_role_approves_the_statement(holding: Driver):
    holding.decide(1, PIOTR)
    holding.decide(1, DANIEL)
    v1 = holding.incident.statement(1)
    assert v1.status is StatementStatus.APPROVED
    assert [(d.person, d.roles, d.decision) for d in v1.decisions] == [
        (PIOTR, ["security_lead"], APPROVE),
        (DANIEL, ["legal"], APPROVE),
    ]
    assert holding.incident.approved_unpublished() is v1
    assert holding.state.timeline[-1].kind == "statement_approved"


def test_a_person_holding_two_approver_roles_approves_for_both(catalog):
    playbook = variant(
        catalog.playbooks["account_compromise"],
        lambda data: data["communicate"].update(approvers=["security_lead", "engineering_on_call"]),
    )
    drive = Driver(make_plan(catalog, playbook=playbook)).to_communicate()
    drive.system_draft(StatementKind.HOLDING)
    drive.decide(1, OLIVIA)  # security_lead and engineering_on_call
    v1 = drive.incident.statement(1)
    assert v1.decisions[0].roles == ["security_lead", "engineering_on_call"]
    assert v1.status is StatementStatus.APPROVED


def test_a_single_reject_marks_the_version_rejected(holding: Driver):
    holding.decide(1, PIOTR)
    holding.decide(1, KASIA, REJECT, comment="Remove the second sentence.")
    v1 = holding.incident.statement(1)
    assert v1.status is StatementStatus.REJECTED
    assert holding.incident.in_flight() is v1
    event = holding.state.timeline[-1]
    assert (event.kind, event.actor) == ("statement_rejected", KASIA)
    assert event.message == "Changes requested on v1 by katarzyna.wisniewska: Remove the second sentence."


def test_a_rejected_version_asks_the_authors_for_a_new_draft(holding: Driver):
    holding.decide(1, PIOTR, REJECT)
    [item] = [i for i in holding.incident.pending(holding.now) if i.kind in ("statement_draft", "approval")]
    assert item.kind == "statement_draft"
    assert item.version == 1
    assert item.people == [ANNA, EWA, JAMES, SARAH]  # comms_lead order, then the commanders not already listed
    assert item.due_at == T0 + timedelta(hours=1)


def test_a_new_draft_after_a_rejection_takes_over_and_the_rejection_stays_on_record(holding: Driver):
    holding.decide(1, PIOTR, REJECT)
    v2 = holding.draft("Revised.")
    assert holding.incident.in_flight() is v2
    assert v2.status is StatementStatus.PENDING_APPROVAL
    assert holding.incident.statement(1).status is StatementStatus.REJECTED  # only a pending version is superseded
    assert "statement_draft" not in kinds(holding.incident.pending(holding.now))


def test_deciding_on_a_rejected_version_is_a_conflict(holding: Driver):
    holding.decide(1, PIOTR, REJECT)
    rejected = rejection(holding.incident.check_decision, 1, StatementDecision(person=KASIA, decision=APPROVE))
    assert (rejected.kind, rejected.message) == ("conflict", "statement version 1 is rejected; nothing to decide")


def test_deciding_twice_is_a_conflict(holding: Driver):
    holding.decide(1, PIOTR)
    rejected = rejection(holding.incident.check_decision, 1, StatementDecision(person=PIOTR, decision=APPROVE))
    assert (rejected.kind, rejected.message) == ("conflict", "'piotr.zielinski' has already decided on version 1")


def test_a_second_person_of_an_approved_role_is_a_conflict(holding: Driver):
    holding.decide(1, PIOTR)
    rejected = rejection(holding.incident.check_decision, 1, StatementDecision(person=OLIVIA, decision=REJECT))
    assert rejected.kind == "conflict"
    assert rejected.message == "version 1 already has the approvals of every role 'olivia.hart' holds"


def test_deciding_on_an_approved_version_is_a_conflict(holding: Driver):
    holding.approve_all(1)
    rejected = rejection(holding.incident.check_decision, 1, StatementDecision(person=OLIVIA, decision=APPROVE))
    assert (rejected.kind, rejected.message) == ("conflict", "statement version 1 is approved; nothing to decide")


def test_deciding_on_an_unknown_version_is_invalid(holding: Driver):
    rejected = rejection(holding.incident.check_decision, 7, StatementDecision(person=PIOTR, decision=APPROVE))
    assert (rejected.kind, rejected.message) == ("invalid", "version: there is no statement version 7")


def test_a_non_approver_cannot_decide(holding: Driver):
    rejected = rejection(holding.incident.check_decision, 1, StatementDecision(person=ANNA, decision=APPROVE))
    assert rejected.kind == "invalid"
    assert rejected.message == "person: 'anna.kowalska' cannot decide on statements; that needs the role security_lead or legal"


def test_an_unknown_person_cannot_decide(holding: Driver):
    rejected = rejection(holding.incident.check_decision, 1, StatementDecision(person="ghost", decision=APPROVE))
    assert (rejected.kind, rejected.message) == ("invalid", "person: 'ghost' is not in the team roster")


def test_pending_asks_every_outstanding_approver_role(holding: Driver):
    items = [i for i in holding.incident.pending(holding.now) if i.kind == "approval"]
    assert [(i.role, i.people, i.version, i.due_at) for i in items] == [
        ("security_lead", [PIOTR, OLIVIA], 1, T0 + timedelta(hours=1)),
        ("legal", [KASIA, DANIEL], 1, T0 + timedelta(hours=1)),
    ]


def test_pending_drops_an_approver_role_once_it_approved(holding: Driver):
    holding.decide(1, OLIVIA)
    assert [i.role for i in holding.incident.pending(holding.now) if i.kind == "approval"] == ["legal"]


# ---- publishing -----------------------------------------------------------------------------


def test_publishing_meets_the_first_statement_deadline(holding: Driver):
    holding.approve_all(1)
    holding.tick(minutes=40)
    holding.publish(1)
    v1 = holding.incident.statement(1)
    assert (v1.status, v1.published_at) == (StatementStatus.PUBLISHED, holding.now)
    assert holding.state.deadlines["first_statement"].status(holding.now) == "met"
    assert holding.incident.in_flight() is None


def test_publishing_late_misses_the_first_statement_deadline(holding: Driver):
    holding.approve_all(1)
    holding.tick(minutes=61)
    holding.publish(1)
    assert holding.state.deadlines["first_statement"].status(holding.now) == "missed"


def test_publishing_schedules_the_next_update_by_the_cadence(holding: Driver):
    holding.approve_all(1)
    holding.tick(minutes=40)
    holding.publish(1)
    assert holding.state.next_update_due == holding.now + timedelta(hours=2)  # SEV2: every 2h
    deadline = holding.state.deadlines["update.1"]
    assert (deadline.due_at, deadline.met_at) == (holding.now + timedelta(hours=2), None)


def test_the_cadence_follows_the_assessed_severity(catalog):
    drive = Driver(make_plan(catalog))
    drive.to_assess()
    drive.assess(severity=Severity.SEV1)
    drive.enter(Phase.RESPOND)
    for task in drive.incident.open_tasks():
        drive.complete(task.id)
    drive.enter(Phase.COMMUNICATE)
    drive.system_draft(StatementKind.HOLDING)
    drive.approve_all(1)
    drive.publish(1)
    assert drive.state.next_update_due == drive.now + timedelta(hours=1)  # SEV1: every 1h


def test_after_the_first_statement_the_next_is_an_update(drive: Driver):
    drive.with_published_holding()
    assert drive.incident.next_statement_kind() is StatementKind.UPDATE


def test_an_update_is_due_at_the_cadence_when_nothing_is_in_flight(drive: Driver):
    drive.with_published_holding()
    due = drive.state.next_update_due
    assert not drive.incident.update_due(due - timedelta(seconds=1))
    assert drive.incident.update_due(due)
    drive.system_draft(StatementKind.UPDATE)
    assert not drive.incident.update_due(due)


def test_publishing_an_update_meets_its_deadline_and_schedules_the_next(drive: Driver):
    drive.with_published_holding()
    drive.tick(minutes=90)
    update = drive.system_draft()
    assert update.kind is StatementKind.UPDATE
    drive.approve_all(update.version)
    drive.publish(update.version)
    assert drive.state.deadlines["update.1"].status(drive.now) == "met"
    assert drive.state.deadlines["update.2"].due_at == drive.now + timedelta(hours=2)
    assert drive.state.next_update_due == drive.now + timedelta(hours=2)


def test_approval_items_after_the_first_statement_are_due_at_the_next_update(drive: Driver):
    drive.with_published_holding()
    drive.system_draft(StatementKind.UPDATE)
    items = [i for i in drive.incident.pending(drive.now) if i.kind == "approval"]
    assert {i.due_at for i in items} == {drive.state.next_update_due}


# ---- resolving ------------------------------------------------------------------------------


def test_resolving_in_identify_is_a_conflict(drive: Driver):
    rejected = rejection(drive.incident.check_resolve, Resolution(person=EWA, summary="Done"))
    assert rejected.kind == "conflict"
    assert rejected.message == "cannot resolve in the identify phase (only in assess or respond or communicate)"


@pytest.mark.parametrize("stage", ["to_assess", "to_respond", "to_communicate"])
def test_resolving_is_possible_in_every_active_phase(drive: Driver, stage):
    getattr(drive, stage)()
    drive.resolve()
    assert drive.incident.resolved
    assert drive.state.resolution.person == EWA


def test_only_the_commander_role_may_resolve(communicating: Driver):
    rejected = rejection(communicating.incident.check_resolve, Resolution(person=ANNA, summary="Done"))
    assert rejected.kind == "invalid"
    assert rejected.message == "person: 'anna.kowalska' cannot resolve the incident; that needs the role incident_commander"


def test_resolving_twice_is_a_conflict(communicating: Driver):
    communicating.resolve(person=JAMES)
    rejected = rejection(communicating.incident.check_resolve, Resolution(person=EWA, summary="Done again"))
    assert (rejected.kind, rejected.message) == ("conflict", "already resolved by james.whitfield")


def test_resolving_stops_the_update_cadence(drive: Driver):
    drive.with_published_holding()
    drive.resolve()
    assert drive.state.next_update_due is None
    assert not drive.incident.update_due(drive.now + timedelta(days=1))


def test_resolving_withdraws_a_holding_statement_in_approval(holding: Driver):
    holding.resolve()
    holding.incident.withdraw_in_flight(holding.now)
    assert holding.incident.statement(1).status is StatementStatus.WITHDRAWN
    assert holding.incident.in_flight() is None
    assert holding.state.timeline[-1].kind == "statement_withdrawn"


def test_resolving_withdraws_a_rejected_holding_statement(holding: Driver):
    holding.decide(1, PIOTR, REJECT)
    holding.resolve()
    holding.incident.withdraw_in_flight(holding.now)
    assert holding.incident.statement(1).status is StatementStatus.WITHDRAWN


def test_an_approved_statement_is_not_withdrawn(holding: Driver):
    holding.approve_all(1)
    holding.resolve()
    holding.incident.withdraw_in_flight(holding.now)
    assert holding.incident.statement(1).status is StatementStatus.APPROVED


def test_a_resolution_statement_in_approval_is_not_withdrawn(drive: Driver):
    drive.with_published_holding()
    drive.resolve()
    drive.system_draft(StatementKind.RESOLUTION)
    drive.incident.withdraw_in_flight(drive.now)
    assert drive.incident.statement(2).status is StatementStatus.PENDING_APPROVAL


def test_withdrawing_with_nothing_in_flight_changes_nothing(drive: Driver):
    drive.with_published_holding()
    before = len(drive.state.timeline)
    drive.incident.withdraw_in_flight(drive.now)
    assert len(drive.state.timeline) == before


def test_nothing_published_means_no_resolution_statement_and_communication_finished(holding: Driver):
    holding.resolve()
    holding.incident.withdraw_in_flight(holding.now)
    assert not holding.incident.resolution_statement_due()
    assert holding.incident.communication_finished()


def test_before_resolution_communication_is_not_finished(drive: Driver):
    drive.with_published_holding()
    assert not drive.incident.resolution_statement_due()
    assert not drive.incident.communication_finished()


def test_a_published_story_needs_a_resolution_statement(drive: Driver):
    drive.with_published_holding()
    drive.resolve()
    assert drive.incident.resolution_statement_due()
    assert drive.incident.next_statement_kind() is StatementKind.RESOLUTION
    assert not drive.incident.communication_finished()


def test_a_drafted_resolution_statement_is_no_longer_due_but_not_finished(drive: Driver):
    drive.with_published_holding()
    drive.resolve()
    drive.system_draft(StatementKind.RESOLUTION)
    assert not drive.incident.resolution_statement_due()
    assert not drive.incident.communication_finished()


def test_a_rejected_resolution_statement_is_revised_not_redrafted(drive: Driver):
    drive.with_published_holding()
    drive.resolve()
    drive.system_draft(StatementKind.RESOLUTION)
    drive.decide(2, KASIA, REJECT)
    assert not drive.incident.resolution_statement_due()
    assert drive.draft("Resolved, in better words.").kind is StatementKind.RESOLUTION


def test_publishing_the_resolution_statement_finishes_communication(drive: Driver):
    drive.with_published_holding()
    drive.resolve()
    drive.system_draft(StatementKind.RESOLUTION)
    drive.approve_all(2)
    drive.publish(2)
    assert drive.incident.communication_finished()
    assert drive.state.next_update_due is None


def test_an_approved_holding_statement_is_published_after_resolution_then_resolved(holding: Driver):
    holding.approve_all(1)
    holding.resolve()
    holding.publish(1)
    assert holding.state.next_update_due is None
    assert holding.incident.resolution_statement_due()


def test_the_resolution_statement_meets_the_update_it_replaces(drive: Driver):
    # The holding statement promised an update within 2h (deadline update.1). The incident is
    # resolved and the resolution statement published 30 min later: the public got its update,
    # so update.1 must not be left open to turn 'overdue' on a closed incident.
    drive.with_published_holding()
    drive.tick(minutes=20)
    drive.resolve()
    drive.system_draft(StatementKind.RESOLUTION)
    drive.approve_all(2)
    drive.tick(minutes=10)
    drive.publish(2)
    assert drive.state.deadlines["update.1"].status(drive.now + timedelta(days=1)) == "met"


def test_drafting_after_communication_finished_is_a_conflict(drive: Driver):
    drive.with_published_holding()
    drive.resolve()
    drive.system_draft(StatementKind.RESOLUTION)
    drive.approve_all(2)
    drive.publish(2)
    rejected = rejection(drive.incident.check_statement_draft, StatementDraft(person=ANNA, text="One more thing"))
    assert (rejected.kind, rejected.message) == ("conflict", "the incident is resolved and its resolution statement is published")


def test_drafting_after_a_silent_resolution_does_not_claim_a_resolution_statement_was_published(holding: Driver):
    holding.resolve()
    holding.incident.withdraw_in_flight(holding.now)
    rejected = rejection(holding.incident.check_statement_draft, StatementDraft(person=ANNA, text="Late words"))
    assert rejected.kind == "conflict"
    assert not holding.incident.published()
    assert "resolution statement is already published" not in rejected.message


def test_cancelling_open_tasks_on_resolution(drive: Driver):
    drive.to_respond()
    drive.complete("recover_access")
    drive.resolve()
    drive.incident.cancel_open_tasks(drive.now)
    statuses = {t.id: t.status for t in drive.state.tasks}
    assert statuses.pop("recover_access") is TaskStatus.DONE
    assert set(statuses.values()) == {TaskStatus.CANCELLED}
    assert drive.incident.open_tasks() == []
    assert sum(e.kind == "task_cancelled" for e in drive.state.timeline) == 7
