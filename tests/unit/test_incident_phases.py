"""Incident: declaration, acknowledgement, assessment and the respond phase."""

from datetime import timedelta

import pytest

from domain.actions import Acknowledge, Assessment, Reassessment, TaskCompletion
from domain.incident import Incident, Phase, Rejected, TaskStatus
from domain.severity import Level, Severity
from tests.unit.conftest import (
    ANNA,
    EMILY,
    EWA,
    JAMES,
    KASIA,
    MARIA,
    OLIVIA,
    PIOTR,
    T0,
    TOM,
    Driver,
    make_plan,
    variant,
)

PAGED = ["incident_commander", "security_lead", "social_media_manager", "comms_lead", "legal"]
TASKS = [
    # id, owner, due_after
    ("pause_scheduled_posts", "social_media_manager", timedelta(minutes=10)),
    ("archive_evidence", "social_media_manager", timedelta(minutes=10)),
    ("recover_access", "security_lead", timedelta(minutes=15)),
    ("rotate_credentials", "security_lead", timedelta(minutes=30)),
    ("warn_followers", "comms_lead", timedelta(minutes=30)),
    ("verify_two_factor", "security_lead", timedelta(hours=1)),
    ("remove_unauthorised_posts", "social_media_manager", timedelta(hours=1)),
    ("check_other_accounts", "security_lead", timedelta(hours=2)),
]
QUESTIONS = "affected_accounts, entry_point, harm_to_followers, personal_data, remaining_access, unauthorised_activity"


def rejection(check, *args) -> Rejected:
    with pytest.raises(Rejected) as info:
        check(*args)
    return info.value


# ---- declaration ----------------------------------------------------------------------------


def test_a_new_incident_starts_in_identify_with_the_declared_severity(drive: Driver):
    assert drive.incident.phase is Phase.IDENTIFY
    assert drive.incident.severity is Severity.SEV2
    assert drive.state.declared_at == T0
    assert not drive.incident.resolved and not drive.incident.closed


def test_every_paged_role_waits_for_an_acknowledgement(drive: Driver):
    assert list(drive.state.acknowledgements) == PAGED
    assert all(ack.acknowledged_by is None for ack in drive.state.acknowledgements.values())


def test_declaration_sets_acknowledge_and_first_statement_deadlines_by_severity(drive: Driver):
    deadlines = drive.state.deadlines
    assert {name: d.due_at for name, d in deadlines.items()} == {
        **{f"acknowledge.{role}": T0 + timedelta(minutes=10) for role in PAGED},
        "first_statement": T0 + timedelta(hours=1),
    }


def test_a_sev1_declaration_has_tighter_deadlines(catalog):
    incident = Incident(make_plan(catalog, severity=Severity.SEV1), T0)
    assert incident.state.deadlines["acknowledge.incident_commander"].due_at == T0 + timedelta(minutes=5)
    assert incident.state.deadlines["first_statement"].due_at == T0 + timedelta(minutes=30)


def test_declaration_is_the_first_timeline_event(drive: Driver):
    [event] = drive.state.timeline
    assert (event.seq, event.kind, event.actor, event.at) == (1, "declared", EWA, T0)
    assert event.data == {"severity": "SEV2", "playbook": "account_compromise"}


def test_a_drill_says_so_in_its_declaration(catalog):
    incident = Incident(make_plan(catalog, drill=True), T0)
    assert incident.state.drill is True
    assert "(drill)" in incident.state.timeline[0].message


def test_the_first_in_escalation_order_is_on_duty_until_someone_acknowledges(drive: Driver):
    assert drive.incident.commander == EWA
    assert drive.incident.on_duty("social_media_manager") == MARIA


# ---- acknowledge ----------------------------------------------------------------------------


def test_the_commander_acknowledges(drive: Driver):
    drive.tick(minutes=3)
    drive.acknowledge(JAMES)
    ack = drive.state.acknowledgements["incident_commander"]
    assert (ack.acknowledged_by, ack.acknowledged_at) == (JAMES, T0 + timedelta(minutes=3))
    assert drive.incident.commander == JAMES
    assert drive.state.deadlines["acknowledge.incident_commander"].met_at == drive.now


def test_a_person_holding_several_paged_roles_acknowledges_all_of_them(drive: Driver):
    drive.acknowledge(EWA)  # incident_commander and comms_lead
    acknowledged = {role for role, ack in drive.state.acknowledgements.items() if ack.acknowledged_by == EWA}
    assert acknowledged == {"incident_commander", "comms_lead"}
    assert [e.data["role"] for e in drive.state.timeline if e.kind == "acknowledged"] == ["incident_commander", "comms_lead"]


def test_a_person_acknowledges_only_the_roles_still_waiting(drive: Driver):
    drive.acknowledge(ANNA)  # comms_lead
    drive.acknowledge(EWA)  # comms_lead is taken: only incident_commander is left for her
    assert drive.state.acknowledgements["comms_lead"].acknowledged_by == ANNA
    assert drive.state.acknowledgements["incident_commander"].acknowledged_by == EWA


def test_acknowledging_a_role_that_is_not_the_commander(drive: Driver):
    drive.acknowledge(OLIVIA)
    assert drive.state.acknowledgements["security_lead"].acknowledged_by == OLIVIA
    assert drive.incident.on_duty("security_lead") == OLIVIA
    assert not drive.incident.is_acknowledged("incident_commander")


def test_acknowledging_twice_is_a_conflict(drive: Driver):
    drive.acknowledge(EWA)
    rejected = rejection(drive.incident.check_acknowledge, Acknowledge(person=EWA))
    assert rejected.kind == "conflict"
    assert rejected.message == "already acknowledged (incident_commander by ewa.lewandowska, comms_lead by ewa.lewandowska)"


def test_acknowledging_a_role_someone_else_already_acknowledged_is_a_conflict(drive: Driver):
    drive.acknowledge(EWA)
    rejected = rejection(drive.incident.check_acknowledge, Acknowledge(person=JAMES))
    assert (rejected.kind, rejected.message) == ("conflict", "already acknowledged (incident_commander by ewa.lewandowska)")


def test_an_unknown_person_cannot_acknowledge(drive: Driver):
    rejected = rejection(drive.incident.check_acknowledge, Acknowledge(person="ghost"))
    assert (rejected.kind, rejected.message) == ("invalid", "person: 'ghost' is not in the team roster")


def test_a_person_holding_no_paged_role_cannot_acknowledge(drive: Driver):
    rejected = rejection(drive.incident.check_acknowledge, Acknowledge(person=EMILY))
    assert rejected.kind == "invalid"
    assert rejected.message == f"person: 'emily.carter' holds none of the paged roles ({', '.join(PAGED)})"


def test_acknowledging_late_misses_the_deadline(drive: Driver):
    drive.tick(minutes=11)
    drive.acknowledge(EWA)
    assert drive.state.deadlines["acknowledge.incident_commander"].status(drive.now) == "missed"


def test_a_role_may_still_acknowledge_after_identify(drive: Driver):
    drive.to_respond()
    drive.acknowledge(KASIA)
    assert drive.incident.is_acknowledged("legal")


def test_check_acknowledge_changes_nothing(drive: Driver):
    before = drive.state.model_copy(deep=True)
    drive.incident.check_acknowledge(Acknowledge(person=EWA))
    assert drive.state == before


# ---- assess ---------------------------------------------------------------------------------


def test_entering_assess_sets_the_assessment_deadline(drive: Driver):
    drive.acknowledge(EWA)
    drive.tick(minutes=2)
    drive.enter(Phase.ASSESS)
    assert drive.incident.phase is Phase.ASSESS
    assert drive.state.deadlines["assessment"].due_at == drive.now + timedelta(minutes=20)


def test_assessing_before_the_assess_phase_is_a_conflict(drive: Driver):
    rejected = rejection(drive.incident.check_assessment, Assessment(person=EWA, severity=Severity.SEV2))
    assert (rejected.kind, rejected.message) == (
        "conflict",
        "cannot submit the assessment in the identify phase (only in assess)",
    )


def test_assessing_after_the_assess_phase_is_a_conflict(drive: Driver):
    drive.to_respond()
    rejected = rejection(drive.incident.check_assessment, Assessment(person=EWA, severity=Severity.SEV2))
    assert (rejected.kind, rejected.message) == ("conflict", "cannot submit the assessment in the respond phase (only in assess)")


def test_assessing_twice_is_a_conflict(drive: Driver):
    # The workflow moves to respond only after the handler returns; a second assessment
    # validated in the same workflow task still sees the assess phase, so the rules must refuse
    # it (as they refuse a second resolve) rather than silently replace the first.
    drive.to_assess()
    drive.assess(severity=Severity.SEV2)
    rejected = rejection(drive.incident.check_assessment, Assessment(person=JAMES, severity=Severity.SEV4))
    assert rejected.kind == "conflict"


def test_severity_comes_from_the_matrix_when_omitted(drive: Driver):
    drive.to_assess()
    drive.assess(impact=Level.EXTREME, reach=Level.LOW)
    assert drive.incident.severity is Severity.SEV1
    assert drive.state.assessment.severity is Severity.SEV1


def test_the_matrix_can_lower_the_severity(drive: Driver):
    drive.to_assess()
    drive.assess(impact=Level.LOW, reach=Level.MEDIUM)
    assert drive.incident.severity is Severity.SEV4


def test_a_given_severity_wins_over_the_matrix(drive: Driver):
    drive.to_assess()
    drive.assess(severity=Severity.SEV3, impact=Level.EXTREME, reach=Level.EXTREME)
    assert drive.incident.severity is Severity.SEV3


@pytest.mark.parametrize("levels", [{}, {"impact": Level.HIGH}, {"reach": Level.HIGH}])
def test_an_assessment_needs_a_severity_or_both_matrix_levels(drive: Driver, levels):
    drive.to_assess()
    rejected = rejection(drive.incident.check_assessment, Assessment(person=EWA, **levels))
    assert rejected.kind == "invalid"
    assert rejected.message == "severity: give a severity, or both impact and reach for the severity matrix"


def test_answers_to_unknown_questions_are_invalid(drive: Driver):
    drive.to_assess()
    action = Assessment(person=EWA, severity=Severity.SEV2, answers={"affected_accounts": "Instagram", "weather": "sunny"})
    rejected = rejection(drive.incident.check_assessment, action)
    assert rejected.kind == "invalid"
    assert rejected.message == f"answers: unknown question weather (this playbook asks: {QUESTIONS})"


def test_answers_facts_and_rumours_are_kept(drive: Driver):
    drive.to_assess()
    drive.assess(answers={"affected_accounts": "Instagram only"}, facts=["The giveaway is fake."], rumours=["Card data leaked"])
    assessment = drive.state.assessment
    assert assessment.answers == {"affected_accounts": "Instagram only"}
    assert (assessment.facts, assessment.rumours) == (["The giveaway is fake."], ["Card data leaked"])
    assert drive.state.assessed_at == drive.now


def test_only_the_commander_role_may_assess(drive: Driver):
    drive.to_assess()
    rejected = rejection(drive.incident.check_assessment, Assessment(person=ANNA, severity=Severity.SEV2))
    assert rejected.kind == "invalid"
    assert rejected.message == "person: 'anna.kowalska' cannot assess the incident; that needs the role incident_commander"


def test_the_backup_commander_may_assess(drive: Driver):
    drive.to_assess()
    drive.assess(person=JAMES)
    assert drive.state.assessment.person == JAMES


def test_an_unknown_person_cannot_assess(drive: Driver):
    drive.to_assess()
    rejected = rejection(drive.incident.check_assessment, Assessment(person="ghost", severity=Severity.SEV2))
    assert (rejected.kind, rejected.message) == ("invalid", "person: 'ghost' is not in the team roster")


def test_a_severity_change_moves_the_first_statement_deadline_from_declaration(drive: Driver):
    drive.to_assess()
    drive.tick(minutes=20)
    drive.assess(severity=Severity.SEV1)
    assert drive.state.deadlines["first_statement"].due_at == T0 + timedelta(minutes=30)


def test_a_lower_severity_gives_more_time_for_the_first_statement(drive: Driver):
    drive.to_assess()
    drive.assess(severity=Severity.SEV4)
    assert drive.state.deadlines["first_statement"].due_at == T0 + timedelta(hours=4)


def test_the_assessment_event_tells_a_severity_change(drive: Driver):
    drive.to_assess()
    drive.assess(severity=Severity.SEV1)
    event = drive.state.timeline[-1]
    assert (event.kind, event.actor, event.message) == ("assessed", EWA, "Assessed as SEV1 (was SEV2)")
    assert event.data == {"severity": "SEV1", "previous": "SEV2"}


def test_an_unchanged_severity_keeps_the_first_statement_deadline(drive: Driver):
    drive.to_assess()
    drive.assess(severity=Severity.SEV2)
    assert drive.state.deadlines["first_statement"].due_at == T0 + timedelta(hours=1)
    assert drive.state.timeline[-1].message == "Assessed as SEV2"


def test_the_assessment_deadline_is_met_or_missed(drive: Driver):
    drive.to_assess()
    drive.tick(minutes=31)
    drive.assess()
    assert drive.state.deadlines["assessment"].status(drive.now) == "missed"


# ---- respond --------------------------------------------------------------------------------


def test_entering_respond_opens_every_task_with_its_due_time(drive: Driver):
    drive.to_assess()
    drive.assess()
    drive.tick(minutes=5)
    drive.enter(Phase.RESPOND)
    tasks = drive.state.tasks
    assert [(t.id, t.owner, t.due_at) for t in tasks] == [(tid, owner, drive.now + after) for tid, owner, after in TASKS]
    assert all(t.status is TaskStatus.OPEN for t in tasks)
    assert {f"task.{tid}" for tid, _, _ in TASKS} <= set(drive.state.deadlines)


def test_tasks_go_to_whoever_acknowledged_the_owner_role(drive: Driver):
    drive.acknowledge(TOM)  # second in the social_media_manager order
    drive.to_respond()  # EWA acknowledges incident_commander and comms_lead
    owners = {t.id: t.assignee for t in drive.state.tasks}
    assert owners["pause_scheduled_posts"] == TOM
    assert owners["warn_followers"] == EWA
    assert owners["recover_access"] == PIOTR  # security_lead unacknowledged: first in order


def test_the_owner_role_completes_a_task(drive: Driver):
    drive.to_respond()
    drive.tick(minutes=4)
    drive.complete("pause_scheduled_posts", person=TOM, note="All paused.")
    task = drive.incident.task("pause_scheduled_posts")
    assert (task.status, task.done_by, task.done_at, task.note) == (TaskStatus.DONE, TOM, drive.now, "All paused.")
    assert drive.state.deadlines["task.pause_scheduled_posts"].status(drive.now) == "met"


def test_the_commander_may_complete_any_task(drive: Driver):
    drive.to_respond()
    drive.complete("recover_access", person=JAMES)
    assert drive.incident.task("recover_access").done_by == JAMES


def test_someone_outside_the_owner_and_commander_roles_cannot_complete_a_task(drive: Driver):
    drive.to_respond()
    rejected = rejection(drive.incident.check_complete_task, "pause_scheduled_posts", TaskCompletion(person=KASIA))
    assert rejected.kind == "invalid"
    assert rejected.message == (
        "person: 'katarzyna.wisniewska' cannot complete 'pause_scheduled_posts'; "
        "that needs the role social_media_manager or incident_commander"
    )


def test_an_unknown_task_is_invalid(drive: Driver):
    drive.to_respond()
    rejected = rejection(drive.incident.check_complete_task, "make_coffee", TaskCompletion(person=EWA))
    assert rejected.kind == "invalid"
    assert rejected.message == f"task_id: unknown task 'make_coffee' (this playbook has: {', '.join(t[0] for t in TASKS)})"


def test_an_unknown_task_is_invalid_even_before_tasks_open(drive: Driver):
    drive.to_assess()
    rejected = rejection(drive.incident.check_complete_task, "make_coffee", TaskCompletion(person=EWA))
    assert rejected.kind == "invalid"


def test_completing_a_task_before_respond_is_a_conflict(drive: Driver):
    drive.to_assess()
    rejected = rejection(drive.incident.check_complete_task, "recover_access", TaskCompletion(person=EWA))
    assert (rejected.kind, rejected.message) == (
        "conflict",
        "cannot complete tasks in the assess phase (only in respond or communicate)",
    )


def test_completing_a_task_twice_is_a_conflict(drive: Driver):
    drive.to_respond()
    drive.complete("recover_access", person=PIOTR)
    rejected = rejection(drive.incident.check_complete_task, "recover_access", TaskCompletion(person=OLIVIA))
    assert (rejected.kind, rejected.message) == ("conflict", "task 'recover_access' is already done")


def test_completing_a_task_late_misses_its_deadline(drive: Driver):
    drive.to_respond()
    drive.tick(minutes=11)
    drive.complete("pause_scheduled_posts", person=MARIA)
    assert drive.state.deadlines["task.pause_scheduled_posts"].status(drive.now) == "missed"


def test_not_ready_to_communicate_while_a_statement_blocking_task_is_open(drive: Driver):
    drive.to_respond()
    blocking = [t.id for t in drive.incident.playbook.respond.tasks if t.before_statement]
    for task_id, _, _ in TASKS:
        if task_id != blocking[-1]:
            drive.complete(task_id)
    assert not drive.incident.ready_to_communicate()
    drive.complete(blocking[-1])
    assert drive.incident.ready_to_communicate()


def test_tasks_not_needed_before_the_statement_do_not_hold_it_back(catalog):
    def let_run_on(data):
        for task in data["respond"]["tasks"]:
            if task["id"] in ("verify_two_factor", "check_other_accounts"):
                task["before_statement"] = False

    playbook = variant(catalog.playbooks["account_compromise"], let_run_on)
    drive = Driver(make_plan(catalog, playbook=playbook)).to_respond()
    for task in drive.incident.open_tasks():
        if task.id not in ("verify_two_factor", "check_other_accounts"):
            drive.complete(task.id)
    assert drive.incident.ready_to_communicate()
    assert [t.id for t in drive.incident.open_tasks()] == ["verify_two_factor", "check_other_accounts"]


def test_tasks_left_open_can_be_completed_while_communicating(catalog):
    playbook = variant(
        catalog.playbooks["account_compromise"],
        lambda data: data["respond"]["tasks"][-1].update(before_statement=False),
    )
    drive = Driver(make_plan(catalog, playbook=playbook)).to_respond()
    for task in drive.incident.open_tasks()[:-1]:
        drive.complete(task.id)
    drive.enter(Phase.COMMUNICATE)
    drive.complete("check_other_accounts", person=OLIVIA)
    assert drive.incident.open_tasks() == []


def test_an_overdue_task_passes_down_the_owner_role(drive: Driver):
    drive.to_respond()
    assert drive.incident.escalate_task("recover_access", drive.now) is True
    task = drive.incident.task("recover_access")
    assert (task.assignee, task.escalations) == (OLIVIA, 1)
    assert drive.incident.escalate_task("recover_access", drive.now) is False
    assert task.assignee == OLIVIA


# ---- re-assessment --------------------------------------------------------------------------


def test_the_commander_raises_the_severity_and_the_deadlines_still_to_come_follow(drive: Driver):
    drive.to_respond()
    communicate = drive.incident.playbook.communicate
    assert drive.state.deadlines["first_statement"].due_at == T0 + communicate.first_statement_within.at(Severity.SEV2)
    action = Reassessment(person=EWA, severity=Severity.SEV1, reason="The scam reached the national press.")
    drive.incident.check_reassessment(action)
    drive.incident.reassess(action, drive.now)
    assert drive.incident.severity is Severity.SEV1
    assert drive.state.deadlines["first_statement"].due_at == T0 + communicate.first_statement_within.at(Severity.SEV1)
    assert drive.incident.holding_at() == T0 + drive.incident.playbook.holding_point(Severity.SEV1)
    event = drive.state.timeline[-1]
    assert (event.kind, event.actor) == ("severity_changed", EWA)
    assert event.message == "Severity raised from SEV2 to SEV1 by ewa.lewandowska: The scam reached the national press."
    lowered = Reassessment(person=EWA, severity=Severity.SEV3, reason="Contained.")
    drive.incident.reassess(lowered, drive.now)
    assert drive.state.timeline[-1].message.startswith("Severity lowered from SEV1 to SEV3")
    assert drive.incident.paged_people() == []  # the driver pages nobody: the workflow does


@pytest.mark.parametrize(
    ("stage", "person", "severity", "kind", "message"),
    [
        ("assess", EWA, Severity.SEV1, "conflict", "not assessed yet"),
        ("respond", "anna.kowalska", Severity.SEV1, "invalid", "cannot change the severity"),
        ("respond", EWA, Severity.SEV2, "invalid", "already SEV2"),
        ("closed", EWA, Severity.SEV1, "conflict", "the incident is closed"),
    ],
)
def test_a_reassessment_that_does_not_fit_is_refused(drive: Driver, stage, person, severity, kind, message):
    {"assess": drive.to_assess, "respond": drive.to_respond, "closed": drive.to_closed}[stage]()
    with pytest.raises(Rejected) as info:
        drive.incident.check_reassessment(Reassessment(person=person, severity=severity, reason="Why not."))
    assert info.value.kind == kind and message in info.value.message
