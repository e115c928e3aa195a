"""Incident: deadlines, what waits on people, review and closing, the timeline and the view."""

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from pydantic import TypeAdapter, ValidationError

import domain.incident as domain_incident
from domain.actions import (
    Acknowledge,
    Assessment,
    Resolution,
    ReviewSubmission,
    StatementDecision,
    StatementDraft,
    TaskCompletion,
    Verdict,
)
from domain.events import EventKind
from domain.incident import (
    Deadline,
    DeadlineStatus,
    IncidentPlan,
    IncidentView,
    PendingItem,
    PendingKind,
    Phase,
    Rejected,
    TimelineEvent,
)
from domain.receipts import UpdateReceipt
from domain.severity import Severity
from domain.statements import StatementKind
from tests.unit.conftest import ANNA, COMMANDERS, EWA, FIXTURES, JAMES, KASIA, MARIA, PIOTR, SARAH, T0, TOM, Driver

ROSTER = yaml.safe_load((FIXTURES / "team.yaml").read_text(encoding="utf-8"))
PEOPLE = {p["id"] for p in ROSTER["people"]}
CONTACTS = [p["phone"] for p in ROSTER["people"]] + [p["email"] for p in ROSTER["people"]]


def rejection(check, *args) -> Rejected:
    with pytest.raises(Rejected) as info:
        check(*args)
    return info.value


def leaked_contacts(text: str) -> list[str]:
    return [contact for contact in CONTACTS if contact in text]


# ---- Deadline.status ------------------------------------------------------------------------

DUE = T0 + timedelta(minutes=30)


@pytest.mark.parametrize(
    ("met_at", "now", "expected"),
    [
        (None, DUE - timedelta(seconds=1), "open"),
        (None, DUE, "open"),
        (None, DUE + timedelta(seconds=1), "overdue"),
        (DUE - timedelta(minutes=5), DUE + timedelta(days=1), "met"),
        (DUE, DUE + timedelta(days=1), "met"),
        (DUE + timedelta(seconds=1), DUE + timedelta(days=1), "missed"),
        (DUE + timedelta(seconds=1), DUE - timedelta(days=1), "missed"),
    ],
)
def test_deadline_status(met_at, now, expected):
    assert Deadline(name="x", label="x", due_at=DUE, met_at=met_at).status(now) == expected


def test_a_closed_incident_reads_its_unmet_deadlines_as_the_report_does(drive: Driver):
    """Resolved before the first statement was due: the API says moot, not overdue, as the report does."""
    from domain.metrics import compute

    drive.to_respond()
    drive.tick(minutes=5)
    drive.resolve()
    drive.incident.cancel_open_tasks(drive.now)
    drive.enter(Phase.REVIEW)
    drive.tick(days=1)
    drive.review()
    drive.enter(Phase.CLOSED)
    later = drive.now + timedelta(days=30)
    view = {d["name"]: d["status"] for d in drive.incident.view(later).model_dump(mode="json")["deadlines"]}
    report = {d.name: d.status for d in compute(drive.state, drive.incident.commander_role, later).deadlines}
    assert view["first_statement"] == "moot"
    assert view == report


@pytest.mark.parametrize(
    ("resolved_after", "closed", "expected"),
    [
        (timedelta(minutes=10), False, "moot"),  # resolved before it fell due
        (timedelta(hours=1), False, "missed"),  # resolved after it fell due, nothing done
        (None, True, "moot"),  # closed with it neither met nor due
    ],
)
def test_an_unmet_deadline_stops_mattering_at_the_resolution(resolved_after, closed, expected):
    resolved_at = T0 + resolved_after if resolved_after else None
    assert Deadline(name="x", label="x", due_at=DUE).status(T0 + timedelta(minutes=20), resolved_at, closed) == expected


# ---- pending --------------------------------------------------------------------------------


def test_identify_waits_for_every_paged_role(drive: Driver):
    items = drive.incident.pending(drive.now)
    acks = [i for i in items if i.kind == "acknowledge"]
    assert [(i.role, i.people, i.due_at) for i in acks] == [
        ("incident_commander", COMMANDERS, T0 + timedelta(minutes=10)),
        ("security_lead", [PIOTR, "olivia.hart"], T0 + timedelta(minutes=10)),
        ("social_media_manager", [MARIA, TOM], T0 + timedelta(minutes=10)),
        ("comms_lead", [ANNA, EWA], T0 + timedelta(minutes=10)),
        ("legal", [KASIA, "daniel.reyes"], T0 + timedelta(minutes=10)),
    ]
    assert [i.kind for i in items] == ["acknowledge"] * 5


def test_unpaged_unacknowledged_roles_stop_waiting_after_identify(drive: Driver):
    drive.to_assess()
    assert "acknowledge" not in [i.kind for i in drive.incident.pending(drive.now)]


def test_a_paged_role_keeps_waiting_after_identify(drive: Driver):
    drive.incident.record_page("legal", KASIA, 0, 0, drive.now)
    drive.to_assess()
    assert [i.role for i in drive.incident.pending(drive.now) if i.kind == "acknowledge"] == ["legal"]


def test_a_withdrawn_page_says_who_took_it_or_that_the_incident_was_resolved(drive: Driver):
    drive.acknowledge(EWA)
    drive.incident.record_page_withdrawn("incident_commander", JAMES, 1, 0, drive.now)
    drive.incident.record_page_withdrawn("legal", KASIA, 0, 1, drive.now)
    withdrawn = [e for e in drive.state.timeline if e.kind == "page_withdrawn"]
    assert [e.message for e in withdrawn] == [
        f"Stopped retrying the page to {JAMES} (incident_commander, level 2): {EWA} took it first",
        f"Stopped retrying the page to {KASIA} (legal, level 1, round 2): the incident was resolved first",
    ]
    assert withdrawn[1].data == {"role": "legal", "person": KASIA, "level": 0, "round": 1}


def test_assess_waits_for_the_commanders(drive: Driver):
    drive.to_assess()
    [assessment] = [i for i in drive.incident.pending(drive.now) if i.kind == "assessment"]
    assert assessment.people == COMMANDERS
    assert assessment.due_at == T0 + timedelta(minutes=20)
    assert [q.id for q in assessment.questions][0] == "affected_accounts"


def test_the_assessment_stops_waiting_once_submitted(drive: Driver):
    drive.to_assess()
    drive.assess()
    assert "assessment" not in [i.kind for i in drive.incident.pending(drive.now)]


def test_every_open_task_waits_on_its_assignee_first(drive: Driver):
    drive.to_respond()
    tasks = {i.task_id: i for i in drive.incident.pending(drive.now) if i.kind == "task"}
    assert len(tasks) == 8
    assert tasks["pause_scheduled_posts"].people == [MARIA, TOM, *COMMANDERS]
    assert tasks["warn_followers"].people == [EWA, ANNA, JAMES, SARAH]  # EWA acknowledged comms_lead
    assert tasks["pause_scheduled_posts"].due_at == T0 + timedelta(minutes=10)


def test_a_completed_task_no_longer_waits(drive: Driver):
    drive.to_respond()
    drive.complete("pause_scheduled_posts")
    assert "pause_scheduled_posts" not in [getattr(i, "task_id", None) for i in drive.incident.pending(drive.now)]


def test_active_phases_wait_for_the_resolution_without_a_due_time(drive: Driver):
    drive.to_respond()
    [resolve] = [i for i in drive.incident.pending(drive.now) if i.kind == "resolve"]
    assert (resolve.people, resolve.due_at) == (COMMANDERS, None)
    drive.resolve()
    assert "resolve" not in [i.kind for i in drive.incident.pending(drive.now)]


def _stages(drive: Driver):
    """Yield the driver at each stage of a run with a rejected and a revised statement."""
    yield drive
    drive.to_assess()
    yield drive
    drive.assess()
    drive.enter(Phase.RESPOND)
    yield drive
    for task in drive.incident.open_tasks():
        drive.complete(task.id)
    drive.enter(Phase.COMMUNICATE)
    drive.system_draft(StatementKind.HOLDING)
    yield drive
    drive.decide(1, PIOTR, Verdict.REJECT)
    yield drive
    drive.draft("Revised.")
    drive.approve_all(2)
    drive.publish(2)
    yield drive
    drive.resolve()
    drive.enter(Phase.REVIEW)
    yield drive


def test_every_pending_item_names_its_kind_people_and_due_time(drive: Driver):
    seen = set()
    for stage in _stages(drive):
        for item in stage.incident.pending(stage.now):
            assert {"kind", "people", "due_at", "title"} <= set(type(item).model_fields)
            assert item.people and set(item.people) <= PEOPLE
            assert item.due_at is None or isinstance(item.due_at, datetime)
            seen.add(item.kind)
    assert seen == {"acknowledge", "assessment", "task", "approval", "statement_draft", "resolve", "review"}


# ---- review and closing ---------------------------------------------------------------------


@pytest.fixture
def reviewing(drive: Driver) -> Driver:
    drive.with_published_holding()
    drive.resolve()
    drive.enter(Phase.REVIEW)
    return drive


def test_entering_review_sets_its_deadline(reviewing: Driver):
    assert reviewing.state.deadlines["review"].due_at == reviewing.now + timedelta(days=5)
    [item] = reviewing.incident.pending(reviewing.now)
    assert (item.kind, item.people, item.due_at) == ("review", COMMANDERS, reviewing.now + timedelta(days=5))


def test_submitting_the_review_meets_its_deadline(reviewing: Driver):
    reviewing.tick(days=2)
    reviewing.review()
    assert reviewing.state.review.summary == "We recovered quickly."
    assert reviewing.state.deadlines["review"].status(reviewing.now) == "met"


def test_the_review_stops_waiting_once_submitted(reviewing: Driver):
    reviewing.review()
    assert reviewing.incident.pending(reviewing.now) == []


def test_reviewing_before_the_review_phase_is_a_conflict(drive: Driver):
    drive.to_communicate()
    rejected = rejection(drive.incident.check_review, ReviewSubmission(person=EWA, summary="Early"))
    assert (rejected.kind, rejected.message) == ("conflict", "cannot submit the review in the communicate phase (only in review)")


def test_only_the_commander_role_may_submit_the_review(reviewing: Driver):
    rejected = rejection(reviewing.incident.check_review, ReviewSubmission(person=ANNA, summary="Mine"))
    assert rejected.kind == "invalid"
    assert rejected.message == "person: 'anna.kowalska' cannot submit the review; that needs the role incident_commander"


def test_submitting_the_review_twice_is_a_conflict(reviewing: Driver):
    # Like resolving twice: the workflow closes only after the handler returns, so a second
    # review validated in the same workflow task must be refused here, not silently replace the first.
    reviewing.review(person=EWA, summary="First")
    rejected = rejection(reviewing.incident.check_review, ReviewSubmission(person=JAMES, summary="Second"))
    assert rejected.kind == "conflict"


def test_closing_records_the_time_and_waits_for_nothing(drive: Driver):
    drive.to_closed()
    assert drive.incident.closed
    assert drive.state.closed_at == drive.now
    assert drive.incident.pending(drive.now) == []
    assert drive.incident.view(drive.now).model_dump(mode="json")["status"] == "closed"


CLOSED_ACTIONS = {
    "acknowledge": lambda i: i.check_acknowledge(Acknowledge(person=KASIA)),
    "assess": lambda i: i.check_assessment(Assessment(person=EWA, severity=Severity.SEV1)),
    "complete_task": lambda i: i.check_complete_task("recover_access", TaskCompletion(person=EWA)),
    "draft": lambda i: i.check_statement_draft(StatementDraft(person=ANNA, text="Hello")),
    "decide": lambda i: i.check_decision(1, StatementDecision(person=PIOTR, decision=Verdict.APPROVE)),
    "resolve": lambda i: i.check_resolve(Resolution(person=EWA, summary="Again")),
    "review": lambda i: i.check_review(ReviewSubmission(person=EWA, summary="Again")),
}


@pytest.mark.parametrize("action", list(CLOSED_ACTIONS))
def test_anything_after_closing_is_a_conflict(drive: Driver, action):
    drive.to_closed()
    rejected = rejection(CLOSED_ACTIONS[action], drive.incident)
    assert (rejected.kind, rejected.message) == ("conflict", "the incident is closed")


def test_after_closing_even_unknown_things_are_a_closed_conflict(drive: Driver):
    drive.to_closed()
    rejected = rejection(drive.incident.check_decision, 99, StatementDecision(person="ghost", decision=Verdict.APPROVE))
    assert (rejected.kind, rejected.message) == ("conflict", "the incident is closed")


# ---- timeline -------------------------------------------------------------------------------


def test_timeline_seq_increases_by_one_and_revision_counts_events(drive: Driver):
    drive.to_closed()
    timeline = drive.state.timeline
    assert [e.seq for e in timeline] == list(range(1, len(timeline) + 1))
    assert drive.state.revision == len(timeline)
    assert all(a.at <= b.at for a, b in zip(timeline, timeline[1:]))


def test_every_change_appends_a_timeline_event(drive: Driver):
    steps = [
        lambda: drive.acknowledge(EWA),
        lambda: drive.enter(Phase.ASSESS),
        lambda: drive.assess(severity=Severity.SEV1),
        lambda: drive.enter(Phase.RESPOND),
        *[(lambda tid=t.id: drive.complete(tid)) for t in drive.incident.playbook.respond.tasks],
        lambda: drive.enter(Phase.COMMUNICATE),
        lambda: drive.system_draft(StatementKind.HOLDING),
        lambda: drive.decide(1, KASIA, Verdict.REJECT),
        lambda: drive.draft("Revised."),
        lambda: drive.decide(2, PIOTR),
        lambda: drive.decide(2, KASIA),
        lambda: drive.publish(2),
        lambda: drive.resolve(),
        lambda: drive.system_draft(StatementKind.RESOLUTION),
        lambda: drive.approve_all(3),
        lambda: drive.publish(3),
        lambda: drive.enter(Phase.REVIEW),
        lambda: drive.review(),
        lambda: drive.enter(Phase.CLOSED),
    ]
    for step in steps:
        before = drive.state.revision
        drive.tick(minutes=1)
        step()
        assert drive.state.revision > before
        assert drive.state.timeline[-1].at == drive.now


def test_people_actions_name_their_actor(drive: Driver):
    drive.to_respond()
    drive.complete("recover_access", person=PIOTR)
    event = drive.state.timeline[-1]
    assert (event.kind, event.actor, event.data) == ("task_completed", PIOTR, {"task_id": "recover_access", "note": None})


def test_phase_changes_are_events(drive: Driver):
    drive.to_assess()
    event = drive.state.timeline[-1]
    assert (event.kind, event.message, event.data) == (
        "phase_changed",
        "Phase identify → assess",
        {"phase": "assess", "previous": "identify"},
    )


# ---- the view -------------------------------------------------------------------------------


def _full_run(drive: Driver) -> None:
    drive.acknowledge(EWA)
    drive.enter(Phase.ASSESS)
    drive.assess(severity=Severity.SEV1, facts=["The giveaway is fake."], answers={"personal_data": "No."})
    drive.enter(Phase.RESPOND)
    for task in drive.incident.open_tasks():
        drive.complete(task.id, note="done")
    drive.enter(Phase.COMMUNICATE)
    drive.system_draft(StatementKind.HOLDING, "Please ignore links from our account.")
    drive.decide(1, KASIA, Verdict.REJECT, comment="Mention direct messages.")
    drive.draft("Please ignore links and direct messages from our account.")
    drive.approve_all(2)
    drive.publish(2)
    drive.tick(hours=1)
    drive.resolve()
    drive.system_draft(StatementKind.RESOLUTION, "The account is secure again.")
    drive.approve_all(3)
    drive.publish(3)
    drive.enter(Phase.REVIEW)
    drive.tick(days=1)
    drive.incident.submit_review(
        ReviewSubmission(person=EWA, summary="Fine.", action_items=[{"title": "Enforce 2FA", "owner": "security_lead"}]),
        drive.now,
    )
    drive.enter(Phase.CLOSED)


def test_the_view_is_json_at_every_stage(drive: Driver):
    for stage in _stages(drive):
        json.dumps(stage.incident.view(stage.now).model_dump(mode="json"))


def test_the_view_of_a_closed_incident_is_json(drive: Driver):
    _full_run(drive)
    view = drive.incident.view(drive.now).model_dump(mode="json")
    assert json.loads(json.dumps(view)) == view


def test_the_view_carries_no_phone_number_or_email(drive: Driver):
    _full_run(drive)
    assert leaked_contacts(json.dumps(drive.incident.view(drive.now).model_dump(mode="json"))) == []


def test_the_view_while_open(drive: Driver):
    drive.to_respond()
    view = drive.incident.view(drive.now).model_dump(mode="json")
    assert view["status"] == "open"
    assert (view["phase"], view["severity"], view["scenario"]) == ("respond", "SEV2", "account_compromise")
    assert [a["role"] for a in view["acknowledgements"]] == list(drive.state.acknowledgements)
    assert "revision" not in view
    deadlines = {d["name"]: d["status"] for d in view["deadlines"]}
    assert deadlines["acknowledge.incident_commander"] == "met"
    assert deadlines["task.pause_scheduled_posts"] == "open"
    task_item = next(i for i in view["pending"] if i["kind"] == "task")
    assert datetime.fromisoformat(task_item["due_at"]) == T0 + timedelta(minutes=10)


def test_deadline_statuses_in_the_view_follow_the_clock(drive: Driver):
    drive.to_respond()
    later = drive.now + timedelta(minutes=11)
    statuses = {d["name"]: d["status"] for d in drive.incident.view(later).model_dump(mode="json")["deadlines"]}
    assert statuses["task.pause_scheduled_posts"] == "overdue"
    assert statuses["task.recover_access"] == "open"
    assert statuses["acknowledge.legal"] == "overdue"


def test_the_plan_pinned_in_history_round_trips_and_carries_no_contact(plan: IncidentPlan):
    text = plan.model_dump_json()
    assert leaked_contacts(text) == []
    assert '"due_after":"10m"' in text
    assert IncidentPlan.model_validate_json(text) == plan


# ---- the typed contract ----------------------------------------------------------------------

PENDING_FIELDS = {
    "acknowledge": {"role"},
    "assessment": {"questions"},
    "task": {"task_id"},
    "approval": {"version", "role"},
    "statement_draft": {"version"},
    "answer_approval": {"answer_id", "version", "number", "role"},
    "answer_draft": {"answer_id", "version"},
    "internal_approval": {"audience", "version", "number", "role"},
    "internal_draft": {"audience", "version"},
    "resolve": set(),
    "review": set(),
    "feedback": set(),
}


def test_each_kind_of_pending_item_has_its_own_fields_and_reads_back_as_itself():
    assert {kind.value for kind in PendingKind} == set(PENDING_FIELDS)
    items = TypeAdapter(list[PendingItem])
    for kind, own in PENDING_FIELDS.items():
        values = {
            "role": "legal",
            "questions": [],
            "task_id": "t",
            "version": 2,
            "answer_id": "a",
            "number": 3,
            "audience": "all_staff",
        }
        item = {"kind": kind, "title": "Something", "people": [EWA], "due_at": None, **{name: values[name] for name in own}}
        [read] = items.validate_python([item])
        assert read.kind == kind and set(read.model_dump(mode="json")) == {"kind", "title", "people", "due_at", *own}
    with pytest.raises(ValidationError):
        items.validate_python([{"kind": "approval", "title": "Approve", "people": [EWA], "due_at": None}])  # no version, no role
    with pytest.raises(ValidationError):
        items.validate_python([{"kind": "dance", "title": "Dance", "people": [EWA], "due_at": None}])


def test_the_view_reads_back_from_its_json_as_the_same_view(drive: Driver):
    for stage in _stages(drive):
        view = stage.incident.view(stage.now)
        again = IncidentView.model_validate_json(view.model_dump_json())
        assert again == view
        assert again.model_dump(mode="json") == view.model_dump(mode="json")
        assert all(type(a) is type(b) for a, b in zip(again.pending, view.pending))


def test_the_view_keeps_the_json_shape_of_the_state_it_shows(drive: Driver):
    _full_run(drive)
    view = drive.incident.view(drive.now).model_dump(mode="json")
    state = drive.state.model_dump(mode="json")
    assert set(view) == (set(state) - {"revision"}) | {"status", "pending", "answers_kit"}
    assert view["acknowledgements"] == list(state["acknowledgements"].values())
    assert [{k: v for k, v in d.items() if k != "status"} for d in view["deadlines"]] == list(state["deadlines"].values())
    assert {d["status"] for d in view["deadlines"]} <= {status.value for status in DeadlineStatus}


def test_every_timeline_event_has_a_kind_of_the_enum_and_an_unknown_kind_is_refused(drive: Driver):
    _full_run(drive)
    assert all(isinstance(event.kind, EventKind) for event in drive.state.timeline)
    assert {event.kind for event in drive.state.timeline} >= {
        EventKind.DECLARED,
        EventKind.STATEMENT_PUBLISHED,
        EventKind.REVIEW_SUBMITTED,
    }
    event = drive.state.timeline[0].model_dump(mode="json")
    assert TimelineEvent.model_validate(event).kind is EventKind.DECLARED and event["kind"] == "declared"
    with pytest.raises(ValidationError):
        TimelineEvent.model_validate({**event, "kind": "declard"})


def test_an_update_receipt_keeps_the_shape_of_the_dict_it_replaced():
    earlier = {"phase": "assess", "events": ["ewa.lewandowska acknowledged as incident_commander"]}
    receipt = UpdateReceipt.model_validate(earlier)
    assert receipt.phase is Phase.ASSESS and receipt.model_dump(mode="json") == earlier


def test_the_domain_writes_every_timeline_event_by_its_kind_in_the_enum():
    """A kind written as a bare string is refused only when that event happens; named from the enum,
    a new kind must be added to ``EventKind`` before anything can write it."""
    sources = Path(domain_incident.__file__).parent.glob("*.py")
    bare = [f"{path.name}: {call}" for path in sources for call in re.findall(r'_event\(\s*now,\s*"[a-z_]+"', path.read_text())]
    assert not bare, bare
