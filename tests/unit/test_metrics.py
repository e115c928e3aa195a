"""Incident metrics from the timeline: the figures a review and a drill score are built on."""

from datetime import timedelta

from domain.actions import Verdict
from domain.incident import Phase
from domain.metrics import compute, describe, margin_text, state_from_view
from domain.statements import StatementKind
from tests.unit.conftest import ANNA, EWA, JAMES, KASIA, PIOTR, T0, Driver, make_plan


def metrics_of(drive: Driver):
    return compute(drive.state, drive.incident.commander_role, drive.now)


def by_name(metrics, name):
    return next(d for d in metrics.deadlines if d.name == name)


def test_the_happy_path_measures_every_phase_from_the_declaration(drive: Driver):
    drive.tick(minutes=4)
    drive.to_assess()
    drive.tick(minutes=6)
    drive.assess()
    drive.enter(Phase.RESPOND)
    for task in drive.incident.open_tasks():
        drive.complete(task.id)
    drive.enter(Phase.COMMUNICATE)
    holding = drive.system_draft(StatementKind.HOLDING)
    drive.tick(minutes=5)
    drive.approve_all(holding.version)
    drive.publish(holding.version)
    drive.tick(hours=1)
    drive.resolve()
    metrics = metrics_of(drive)
    assert metrics.time_to_acknowledge == timedelta(minutes=4)
    assert metrics.time_to_assessment == timedelta(minutes=10)
    assert metrics.time_to_first_statement == timedelta(minutes=15)
    assert metrics.time_to_resolve == timedelta(minutes=75)
    assert metrics.time_to_detect is None
    ack = by_name(metrics, "acknowledge.incident_commander")
    assert ack.status == "met" and ack.margin == timedelta(minutes=6) and margin_text(ack) == "6 min early"


def test_never_acknowledged_has_no_times_and_the_acknowledgement_is_missed_by_the_time_passed(drive: Driver):
    drive.incident.record_page("incident_commander", EWA, 0, 0, drive.now)
    drive.tick(minutes=10)
    drive.incident.record_page("incident_commander", JAMES, 1, 0, drive.now)
    drive.tick(minutes=15)
    metrics = metrics_of(drive)
    assert metrics.time_to_acknowledge is None and metrics.time_to_assessment is None
    assert metrics.time_to_first_statement is None and metrics.time_to_resolve is None
    assert metrics.highest_escalation_level == 2 and metrics.escalation_by_role["incident_commander"] == 2
    ack = by_name(metrics, "acknowledge.incident_commander")
    assert ack.status == "missed" and ack.margin == -timedelta(minutes=15) and margin_text(ack) == "15 min late"
    assert describe(metrics.time_to_acknowledge) == "—"


def test_resolved_before_any_statement_leaves_the_statement_deadline_moot(drive: Driver):
    drive.to_respond()
    drive.tick(minutes=5)
    drive.resolve()
    drive.incident.cancel_open_tasks(drive.now)
    drive.enter(Phase.REVIEW)
    metrics = metrics_of(drive)
    assert metrics.time_to_first_statement is None
    assert metrics.time_to_resolve == timedelta(minutes=5)
    assert by_name(metrics, "first_statement").status == "moot"
    assert all(d.status == "waived" for d in metrics.deadlines if d.name.startswith("task."))
    assert metrics.approval_rounds == []
    assert metrics.score == 1.0  # acknowledgement and assessment met; the rest moot, waived or open


def test_resolved_after_the_statement_deadline_with_nothing_said_counts_as_missed(drive: Driver):
    drive.to_respond()
    drive.tick(hours=2)
    drive.resolve()
    statement = by_name(metrics_of(drive), "first_statement")
    assert statement.status == "missed"
    assert statement.margin == -(
        timedelta(hours=2) - drive.incident.playbook.communicate.first_statement_within.at(drive.incident.severity)
    )


def test_several_approval_rounds_with_the_wait_per_approver(drive: Driver):
    drive.to_communicate()
    first = drive.system_draft(StatementKind.HOLDING)
    drive.tick(minutes=3)
    drive.decide(first.version, PIOTR)
    drive.tick(minutes=4)
    drive.decide(first.version, KASIA, Verdict.REJECT, "Too vague")
    second = drive.draft("Our account was taken over; we have locked it.", person=ANNA)
    drive.tick(minutes=2)
    drive.decide(second.version, PIOTR)
    drive.tick(minutes=6)
    drive.decide(second.version, KASIA)
    drive.publish(second.version)
    metrics = metrics_of(drive)
    assert [(r.version, r.outcome) for r in metrics.approval_rounds] == [(1, "rejected"), (2, "published")]
    assert metrics.approval_rounds[0].lasted == timedelta(minutes=7)
    assert metrics.approval_rounds[1].lasted == timedelta(minutes=8)
    assert [d.waited for d in metrics.approval_rounds[1].decisions] == [timedelta(minutes=2), timedelta(minutes=8)]
    waits = {w.person: w for w in metrics.approver_waits}
    assert waits[PIOTR].decisions == 2 and waits[PIOTR].mean_wait == timedelta(minutes=2, seconds=30)
    assert waits[KASIA].longest_wait == timedelta(minutes=8)


def test_time_to_detect_runs_from_the_first_mention(catalog):
    plan = make_plan(catalog).model_copy(update={"detected_at": T0 - timedelta(minutes=25)})
    drive = Driver(plan)
    assert metrics_of(drive).time_to_detect == timedelta(minutes=25)


def test_a_closed_drill_scores_met_against_counted_deadlines(catalog):
    drive = Driver(make_plan(catalog, drill=True)).to_closed()
    metrics = metrics_of(drive)
    counted = [d for d in metrics.deadlines if d.counted]
    assert metrics.score == metrics.met / len(counted)
    assert by_name(metrics, "review").status == "met"
    assert not [d for d in metrics.deadlines if d.status == "open"]


def test_metrics_from_the_query_view_equal_metrics_from_the_state(drive: Driver):
    drive.to_closed()
    restored = state_from_view(drive.incident.view(drive.now))
    assert compute(restored, "incident_commander", drive.now) == metrics_of(drive)
