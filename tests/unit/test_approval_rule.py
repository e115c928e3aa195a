"""One approval rule for everything that needs approval before it goes out (domain/incident/approval.py):
a statement, a proposal for the answers kit and an internal message are decided, refused and
recorded the same way, each in its own words."""

import pytest

from domain.actions import AnswerDraft, StatementDecision, Verdict
from domain.incident import AnswerStatus, InternalStatus, Rejected, StatementStatus
from tests.unit.conftest import ANNA, EWA, Driver, make_plan

JAKUB = "jakub.mazur"  # engineering_on_call (1st): with Ewa (incident_commander), the outage's approvers


@pytest.fixture
def outage(catalog) -> Driver:
    """In communicate, with one of each kind in approval: statement v1, answer 'when_fixed' v2 and
    the message to all staff v1."""
    drive = Driver(make_plan(catalog, "technical_outage")).to_communicate()
    drive.system_draft()
    proposal = AnswerDraft(person=ANNA, text="We expect the checkout back within the hour.")
    drive.incident.check_answer_proposal("when_fixed", proposal)
    drive.incident.propose_answer("when_fixed", proposal, drive.now)
    drive.incident.add_internal("all_staff", "Do not comment.", "crisisflow", drive.now)
    return drive


def kinds(drive: Driver):
    """(check, decide, the version, its timeline kind) of each approvable thing."""
    incident = drive.incident
    return [
        (
            lambda a: incident.check_decision(1, a),
            lambda a: incident.decide(1, a, drive.now),
            lambda: incident.statement(1),
            "statement",
        ),
        (
            lambda a: incident.check_answer_decision("when_fixed", 2, a),
            lambda a: incident.decide_answer("when_fixed", 2, a, drive.now),
            lambda: incident.answer_version("when_fixed", 2),
            "answer",
        ),
        (
            lambda a: incident.check_internal_decision("all_staff", 1, a),
            lambda a: incident.decide_internal("all_staff", 1, a, drive.now),
            lambda: incident.internal_history("all_staff")[0],
            "internal",
        ),
    ]


def test_each_kind_is_approved_role_by_role_and_its_events_name_the_roles(outage: Driver):
    waiting = [(p.kind, p.role) for p in outage.incident.pending(outage.now) if p.kind.endswith("approval")]
    assert waiting == [
        (kind, role)
        for kind in ("approval", "answer_approval", "internal_approval")
        for role in ("incident_commander", "engineering_on_call")
    ]
    for check, decide, version, kind in kinds(outage):
        approve = StatementDecision(person=EWA, decision=Verdict.APPROVE)
        check(approve)
        decide(approve)
        event = outage.state.timeline[-1]
        assert (event.kind, event.data["roles"], event.via) == (f"{kind}_approved_by", ["incident_commander"], None)
        with pytest.raises(Rejected) as again:
            check(approve)
        assert again.value.kind == "conflict" and again.value.message.startswith(f"'{EWA}' has already decided on ")
        check(StatementDecision(person=JAKUB, decision=Verdict.APPROVE))
        decide(StatementDecision(person=JAKUB, decision=Verdict.APPROVE))
        assert version().status == "approved" and outage.state.timeline[-1].kind == f"{kind}_approved"
    assert not [p for p in outage.incident.pending(outage.now) if p.kind.endswith("approval")]


def test_a_request_for_changes_rejects_each_kind_in_its_own_status(outage: Driver):
    for (check, decide, version, kind), status in zip(kinds(outage), (StatementStatus, AnswerStatus, InternalStatus)):
        reject = StatementDecision(person=JAKUB, decision=Verdict.REJECT, comment="Say when.")
        check(reject)
        decide(reject)
        assert version().status is status.REJECTED
        event = outage.state.timeline[-1]
        assert (
            event.kind == f"{kind}_rejected"
            and event.message.startswith("Changes requested on ")
            and event.message.endswith(f"by {JAKUB}: Say when.")
        )
        with pytest.raises(Rejected) as late:
            check(StatementDecision(person=EWA, decision=Verdict.APPROVE))
        assert late.value.message.endswith("is rejected; nothing to decide")
