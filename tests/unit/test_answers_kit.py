"""The incident's answers kit: pinned at declaration, adapted per incident through the statements'
approval rule (all / any: N), rejected and revised, never published."""

import pytest

from domain.actions import AnswerDraft, StatementDecision, Verdict
from domain.answers import ANSWER_MAX_LENGTH, pin_answers
from domain.incident import AnswerStatus, AnswerVersion, IncidentPlan, Phase, Rejected
from tests.unit.conftest import ANNA, DANIEL, EWA, KASIA, MARIA, OLIVIA, PIOTR, Driver, make_plan, variant

GIVEAWAY = "is_giveaway_real"
NEW_TEXT = "No. The giveaway is a scam posted by whoever took over our account. Please don't click its links."


def propose(
    drive: Driver, text: str = NEW_TEXT, answer_id: str = GIVEAWAY, person: str = ANNA, question: str | None = None
) -> AnswerVersion:
    action = AnswerDraft(person=person, text=text, question=question)
    drive.incident.check_answer_proposal(answer_id, action)
    return drive.incident.propose_answer(answer_id, action, drive.now)


def decide(
    drive: Driver,
    version: int,
    person: str,
    verdict: Verdict = Verdict.APPROVE,
    answer_id: str = GIVEAWAY,
    comment: str | None = None,
) -> None:
    action = StatementDecision(person=person, decision=verdict, comment=comment)
    drive.incident.check_answer_decision(answer_id, version, action)
    drive.incident.decide_answer(answer_id, version, action, drive.now)


def refusal(check) -> Rejected:
    with pytest.raises(Rejected) as info:
        check()
    return info.value


def kit_entry(drive: Driver, answer_id: str = GIVEAWAY) -> dict:
    return next(
        entry for entry in drive.incident.view(drive.now).model_dump(mode="json")["answers_kit"] if entry["id"] == answer_id
    )


def any_of(count: int):
    def mutate(data):
        data["communicate"]["approval"] = {"any": count}

    return mutate


def test_the_kit_is_pinned_in_the_incidents_language(catalog, drive: Driver):
    kit = catalog.answers["account_compromise"]
    assert [a.id for a in drive.incident.plan.answers] == [a.id for a in kit.answers]
    assert drive.incident.plan.answers[0].text == kit.answers[0].answer["en"]
    assert pin_answers(kit, "pl")[0].question == kit.answers[0].question["pl"]
    assert pin_answers(None, "en") == [] and pin_answers(kit, "de") == []
    entry = kit_entry(drive)
    assert entry | {"proposal": None} == {
        "id": GIVEAWAY,
        "question": kit.answers[0].question["en"],
        "text": kit.answers[0].answer["en"],
        "version": 1,
        "source": "playbook",
        "approved_by": [],
        "proposal": None,
        "released": True,
        "waiting_for": None,
        "held_text": None,
    }


def test_a_plan_recorded_before_kits_were_pinned_still_loads(plan: IncidentPlan):
    old = plan.model_dump(mode="json", exclude={"answers"})
    assert IncidentPlan.model_validate(old).answers == []


def test_a_proposal_goes_to_every_approver_role_with_a_diff_from_the_kit(drive: Driver):
    drive.to_assess()
    proposal = propose(drive)
    assert (proposal.version, proposal.number, proposal.status) == (2, 1, AnswerStatus.PENDING_APPROVAL)
    assert "--- v1" in proposal.diff and "+++ v2" in proposal.diff and f"+{NEW_TEXT}" in proposal.diff
    approvals = [p for p in drive.incident.pending(drive.now) if p.kind == "answer_approval"]
    assert [(p.role, p.people, p.version, p.number) for p in approvals] == [
        ("security_lead", [PIOTR, OLIVIA], 2, 1),
        ("legal", [KASIA, DANIEL], 2, 1),
    ]
    assert approvals[0].title == f"Approve answer '{GIVEAWAY}' v2 as security_lead"
    assert drive.state.timeline[-1].kind == "answer_proposed"
    assert drive.state.timeline[-1].message == f"Answer '{GIVEAWAY}' v2 proposed by {ANNA}"
    entry = kit_entry(drive)
    assert (
        entry["source"] == "playbook" and entry["proposal"]["version"] == 2 and entry["proposal"]["status"] == "pending_approval"
    )


def test_under_all_every_role_approves_then_it_replaces_the_answer_for_this_incident(drive: Driver):
    drive.to_assess()
    propose(drive)
    decide(drive, 2, PIOTR)
    assert kit_entry(drive)["source"] == "playbook"
    assert [p.role for p in drive.incident.pending(drive.now) if p.kind == "answer_approval"] == ["legal"]
    decide(drive, 2, KASIA)
    entry = kit_entry(drive)
    assert (entry["text"], entry["version"], entry["source"], entry["approved_by"], entry["proposal"]) == (
        NEW_TEXT,
        2,
        "incident",
        [PIOTR, KASIA],
        None,
    )
    assert (
        drive.state.timeline[-1].message
        == f"Answer '{GIVEAWAY}' v2 approved by every approver role; it replaces the playbook's v1 for this incident"
    )
    assert not [p for p in drive.incident.pending(drive.now) if p.kind.startswith("answer")]
    assert drive.state.statements == []  # the team's kit: nothing goes to the public


def test_under_any_n_that_many_people_are_enough(catalog):
    drive = Driver(make_plan(catalog, variant(catalog.playbooks["account_compromise"], any_of(2))))
    drive.to_assess()
    proposal = propose(drive)
    decide(drive, 2, KASIA)
    assert proposal.status is AnswerStatus.PENDING_APPROVAL
    decide(drive, 2, OLIVIA)
    assert proposal.status is AnswerStatus.APPROVED
    assert drive.state.timeline[-1].message.endswith("approved by 2 approver(s); it replaces the playbook's v1 for this incident")


def test_rejected_the_author_revises_and_the_new_version_diffs_from_the_rejected_one(drive: Driver):
    drive.to_assess()
    propose(drive)
    decide(drive, 2, KASIA, Verdict.REJECT, comment="Say we are working with the platform.")
    assert kit_entry(drive)["proposal"]["status"] == "rejected"
    assert (
        drive.state.timeline[-1].message
        == f"Changes requested on answer '{GIVEAWAY}' v2 by {KASIA}: Say we are working with the platform."
    )
    draft = next(p for p in drive.incident.pending(drive.now) if p.kind == "answer_draft")
    assert draft.answer_id == GIVEAWAY and draft.version == 2 and ANNA in draft.people and EWA in draft.people
    assert refusal(
        lambda: drive.incident.check_answer_decision(GIVEAWAY, 2, StatementDecision(person=PIOTR, decision="approve"))
    ).message == (f"answer '{GIVEAWAY}' v2 is rejected; nothing to decide")
    revised = propose(drive, NEW_TEXT + " We're working with the platform.")
    assert revised.version == 3 and "--- v2" in revised.diff
    assert not [p for p in drive.incident.pending(drive.now) if p.kind == "answer_draft"]
    decide(drive, 3, PIOTR)
    decide(drive, 3, KASIA)
    assert kit_entry(drive)["version"] == 3 and [v.status for v in drive.incident.answer_history(GIVEAWAY)] == [
        AnswerStatus.REJECTED,
        AnswerStatus.APPROVED,
    ]


def test_a_new_proposal_supersedes_the_pending_one_and_a_later_approval_the_earlier(drive: Driver):
    drive.to_assess()
    first = propose(drive, "First try.")
    second = propose(drive, "Second try.")
    assert first.status is AnswerStatus.SUPERSEDED and second.version == 3
    assert refusal(
        lambda: drive.incident.check_answer_decision(GIVEAWAY, 2, StatementDecision(person=PIOTR, decision="approve"))
    ).message == (f"answer '{GIVEAWAY}' v2 is superseded; nothing to decide")
    decide(drive, 3, PIOTR)
    decide(drive, 3, KASIA)
    third = propose(drive, "Third wording.")
    decide(drive, 4, PIOTR)
    decide(drive, 4, KASIA)
    assert second.status is AnswerStatus.SUPERSEDED and third.status is AnswerStatus.APPROVED
    assert drive.state.timeline[-1].message.endswith("it replaces v3 for this incident")


def test_an_answer_can_be_added_with_its_question(drive: Driver):
    drive.to_assess()
    refused = refusal(lambda: propose(drive, "Yes, in every store.", answer_id="stores_open"))
    assert refused.kind == "invalid"
    assert refused.message == (
        f"answer_id: unknown answer 'stores_open' (this incident's kit has: {GIVEAWAY}, clicked_link, my_data_leaked); "
        "give a question to add it"
    )
    added = propose(drive, "Yes, in every store.", answer_id="stores_open", question="Are your stores open?")
    assert (added.version, added.diff) == (1, "")
    assert drive.state.timeline[-1].message == f"Answer 'stores_open' v1 proposed by {ANNA} (a new answer)"
    entry = kit_entry(drive, "stores_open")
    assert (entry["text"], entry["source"], entry["question"]) == (None, "proposed", "Are your stores open?")
    decide(drive, 1, PIOTR, answer_id="stores_open")
    decide(drive, 1, KASIA, answer_id="stores_open")
    assert drive.incident.answer_ids()[-1] == "stores_open"
    entry = kit_entry(drive, "stores_open")
    assert (entry["text"], entry["source"], entry["version"]) == ("Yes, in every store.", "incident", 1)
    assert drive.state.timeline[-1].message.endswith("it replaces nothing for this incident")


def test_the_question_can_be_reworded_with_the_answer(drive: Driver):
    drive.to_assess()
    propose(drive, question="Is the Instagram giveaway real?")
    decide(drive, 2, PIOTR)
    decide(drive, 2, KASIA)
    assert kit_entry(drive)["question"] == "Is the Instagram giveaway real?"


@pytest.mark.parametrize(
    "setup, action, answer_id, kind, message",
    [
        (
            "identify",
            AnswerDraft(person=ANNA, text="x"),
            GIVEAWAY,
            "conflict",
            "cannot propose answers in the identify phase (only in assess or respond or communicate)",
        ),
        (
            "assess",
            AnswerDraft(person=MARIA, text="x"),
            GIVEAWAY,
            "invalid",
            f"person: '{MARIA}' cannot propose answers; that needs the role comms_lead or incident_commander",
        ),
        ("assess", AnswerDraft(person="nobody", text="x"), GIVEAWAY, "invalid", "person: 'nobody' is not in the team roster"),
        (
            "assess",
            AnswerDraft(person=ANNA, text="x" * (ANSWER_MAX_LENGTH + 1)),
            GIVEAWAY,
            "invalid",
            f"text: {ANSWER_MAX_LENGTH + 1} characters; an answer in the kit takes at most {ANSWER_MAX_LENGTH}",
        ),
        (
            "assess",
            AnswerDraft(person=ANNA, text="x"),
            "Bad-Id",
            "invalid",
            "answer_id: 'Bad-Id' must be lowercase letters, digits and _ (at most 100)",
        ),
        ("closed", AnswerDraft(person=ANNA, text="x"), GIVEAWAY, "conflict", "the incident is closed"),
    ],
)
def test_proposals_that_do_not_fit_are_refused_with_the_field_named(drive: Driver, setup, action, answer_id, kind, message):
    {"identify": lambda: None, "assess": drive.to_assess, "closed": drive.to_closed}[setup]()
    refused = refusal(lambda: drive.incident.check_answer_proposal(answer_id, action))
    assert (refused.kind, refused.message) == (kind, message)


def test_the_same_text_again_is_refused(catalog, drive: Driver):
    drive.to_assess()
    same = catalog.answers["account_compromise"].answers[0].answer["en"]
    refused = refusal(lambda: propose(drive, same))
    assert refused.message == f"text: the same as answer '{GIVEAWAY}' in use; nothing to approve"


def test_a_playbook_with_short_channels_keeps_answers_as_short(catalog):
    def short(data):
        data["communicate"]["max_length"] = 280

    drive = Driver(make_plan(catalog, variant(catalog.playbooks["account_compromise"], short)))
    drive.to_assess()
    refused = refusal(lambda: propose(drive, "x" * 281))
    assert refused.message == "text: 281 characters; an answer in the kit takes at most 280"


@pytest.mark.parametrize(
    "answer_id, version, person, kind, message",
    [
        (
            "no_such",
            2,
            PIOTR,
            "invalid",
            f"answer_id: unknown answer 'no_such' (this incident's kit has: {GIVEAWAY}, clicked_link, my_data_leaked)",
        ),
        (GIVEAWAY, 7, PIOTR, "invalid", f"version: answer '{GIVEAWAY}' has no version 7 (proposed: v2)"),
        (GIVEAWAY, 1, PIOTR, "conflict", f"answer '{GIVEAWAY}' v1 is the playbook's pre-approved answer; nothing to decide"),
        (GIVEAWAY, 2, ANNA, "invalid", f"person: '{ANNA}' cannot decide on answers; that needs the role security_lead or legal"),
    ],
)
def test_decisions_that_do_not_fit_are_refused(drive: Driver, answer_id, version, person, kind, message):
    drive.to_assess()
    propose(drive)
    refused = refusal(
        lambda: drive.incident.check_answer_decision(answer_id, version, StatementDecision(person=person, decision="approve"))
    )
    assert (refused.kind, refused.message) == (kind, message)


def test_an_approver_decides_once(drive: Driver):
    drive.to_assess()
    propose(drive)
    decide(drive, 2, PIOTR)
    again = refusal(
        lambda: drive.incident.check_answer_decision(GIVEAWAY, 2, StatementDecision(person=PIOTR, decision="approve"))
    )
    assert (again.kind, again.message) == ("conflict", f"'{PIOTR}' has already decided on answer '{GIVEAWAY}' v2")
    same_role = refusal(
        lambda: drive.incident.check_answer_decision(GIVEAWAY, 2, StatementDecision(person=OLIVIA, decision="approve"))
    )
    assert (same_role.kind, same_role.message) == (
        "conflict",
        f"answer '{GIVEAWAY}' v2 already has the approvals of every role '{OLIVIA}' holds",
    )


def test_a_pending_proposal_can_still_be_decided_in_review_but_not_revised(drive: Driver):
    drive.to_assess()
    propose(drive)
    drive.incident.enter(Phase.REVIEW, drive.now)
    assert [p.kind for p in drive.incident.pending(drive.now) if p.kind.startswith("answer")] == [
        "answer_approval",
        "answer_approval",
    ]
    decide(drive, 2, KASIA, Verdict.REJECT)
    assert not [p for p in drive.incident.pending(drive.now) if p.kind == "answer_draft"]
    assert refusal(lambda: propose(drive)).message.startswith("cannot propose answers in the review phase")
