"""Answers that wait for facts: a kit answer that asserts a fact ("refunded automatically within 5
working days", "this is an outage, not a security incident") is bound to the task that establishes
it, and is held (not for use, not to be adapted or approved) until that task is done."""

import shutil
from pathlib import Path

import pytest

from domain.actions import AnswerDraft, FactSheetEdit, StatementDecision, Verdict
from domain.catalog import load_catalog
from domain.incident import Rejected
from tests.unit.conftest import ANNA, EWA, FIXTURES, Driver, copy_fixtures, edit_yaml, make_plan, problems_of

CHARGED = "charged_twice"
SECURITY = "data_safe"


@pytest.fixture
def outage(catalog) -> Driver:
    return Driver(make_plan(catalog, "technical_outage"))


def entry(drive: Driver, answer_id: str) -> dict:
    return next(e for e in drive.incident.view(drive.now).model_dump(mode="json")["answers_kit"] if e["id"] == answer_id)


@pytest.mark.shipped
def test_the_shipped_kits_bind_the_answers_that_assert_facts(catalog):
    bound = {
        (playbook, a.id): a.released_by.task for playbook, kit in catalog.answers.items() for a in kit.answers if a.released_by
    }
    refund = next(a for a in catalog.answers["customer_backlash"].answers if a.id == "refund")
    assert refund.released_by.fact == "remedy"
    assert bound == {
        ("technical_outage", "what_happened"): "confirm_scope",
        ("technical_outage", "charged_twice"): "check_customer_charges",
        ("technical_outage", "data_safe"): "confirm_scope",
        ("misinformation", "is_it_true"): "verify_facts",
        ("misinformation", "proof"): "verify_facts",
        ("controversial_post", "why_posted"): "hide_or_remove_post",
        ("controversial_post", "why_deleted"): "prepare_apology",
        ("customer_backlash", "refund"): None,
        ("data_breach", "what_data"): "scope_personal_data",
        ("data_breach", "still_happening"): "contain_exposure",
        ("data_breach", "authorities"): "notify_supervisory_authority",
    }


def test_a_held_answer_shows_what_it_waits_for_and_no_usable_text(outage: Driver, catalog):
    outage.to_respond()
    held = entry(outage, CHARGED)
    kit_text = next(a for a in catalog.answers["technical_outage"].answers if a.id == CHARGED).answer["en"]
    assert held["released"] is False and held["text"] is None and held["held_text"] == kit_text
    assert held["waiting_for"] == {
        "task": "check_customer_charges",
        "fact": None,
        "title": "Check for failed or duplicate charges",
        "status": "open",
        "why": (
            "it asserts what the task 'Check for failed or duplicate charges' establishes; it is released when that task is done"
        ),
    }
    assert entry(outage, "when_fixed")["released"] is True and entry(outage, "when_fixed")["text"]


def test_before_the_respond_phase_the_task_is_not_started(outage: Driver):
    outage.to_assess()
    assert entry(outage, SECURITY)["waiting_for"]["status"] == "not started"


def test_proposing_a_held_answer_is_refused_with_the_reason(outage: Driver):
    outage.to_respond()
    action = AnswerDraft(person=ANNA, text="Refunds go back to your card within 10 working days.")
    with pytest.raises(Rejected) as info:
        outage.incident.check_answer_proposal(CHARGED, action)
    assert info.value.kind == "conflict"
    assert (
        info.value.message
        == f"answer '{CHARGED}' is held: it asserts what the task 'Check for failed or duplicate charges' establishes; "
        "it is released when that task is done (task 'check_customer_charges' is open); adapt it then"
    )


def test_completing_the_task_releases_the_answer_on_the_timeline(outage: Driver):
    outage.to_respond()
    outage.complete("confirm_scope")
    released = [e for e in outage.state.timeline if e.kind == "answer_released"]
    assert [(e.data["answer_id"], e.message) for e in released] == [
        (
            "what_happened",
            "Answer 'what_happened' released: the task 'Confirm the scope with engineering' that establishes it is done",
        ),
        (SECURITY, f"Answer '{SECURITY}' released: the task 'Confirm the scope with engineering' that establishes it is done"),
    ]
    now = entry(outage, SECURITY)
    assert now["released"] is True and now["text"] and now["waiting_for"] is None and now["held_text"] is None
    assert entry(outage, CHARGED)["released"] is False


def test_a_released_answer_is_adapted_and_approved_as_usual(outage: Driver):
    outage.to_respond()
    outage.complete("check_customer_charges")
    action = AnswerDraft(person=ANNA, text="Yes: failed orders are refunded to the same card within 5 working days.")
    outage.incident.check_answer_proposal(CHARGED, action)
    outage.incident.propose_answer(CHARGED, action, outage.now)
    for person in (EWA, "jakub.mazur"):
        decision = StatementDecision(person=person, decision=Verdict.APPROVE)
        outage.incident.check_answer_decision(CHARGED, 2, decision)
        outage.incident.decide_answer(CHARGED, 2, decision, outage.now)
    assert entry(outage, CHARGED)["text"] == action.text and entry(outage, CHARGED)["source"] == "incident"


def test_an_answer_whose_task_was_cancelled_stays_held_and_says_so(outage: Driver):
    outage.to_respond()
    outage.resolve()
    outage.incident.cancel_open_tasks(outage.now)
    why = entry(outage, CHARGED)["waiting_for"]
    assert why["status"] == "cancelled" and "was cancelled" in why["why"]


def test_approving_a_held_answer_is_refused(outage: Driver):
    """A proposal can only exist for a released answer; the decision re-checks all the same, so a
    hold can never be approved past."""
    outage.to_respond()
    with pytest.raises(Rejected, match=f"answer '{CHARGED}' is held: .* approve it then"):
        outage.incident._require_released(CHARGED, "approve")


def outage_folder(tmp_path: Path) -> tuple[Path, Path]:
    """The roster, the outage playbook and its kit: (the folder, the kit's path)."""
    folder = copy_fixtures(tmp_path / "playbooks", only=("technical_outage",))
    (folder / "answers").mkdir()
    path = folder / "answers" / "technical_outage.yaml"
    shutil.copy(FIXTURES / "answers" / "technical_outage.yaml", path)
    return folder, path


def test_a_kit_bound_to_a_task_the_playbook_lacks_is_refused(tmp_path):
    folder, path = outage_folder(tmp_path)
    edit_yaml(path, lambda data: data["answers"][2].update(released_by={"task": "refund_everyone"}))
    (found,) = problems_of(folder)
    assert found.startswith(
        f"{path}:answers.2.released_by.task: unknown task 'refund_everyone' (playbook 'technical_outage' has: confirm_scope, "
    )


def test_a_binding_names_a_task_or_a_fact_sheet_field(tmp_path):
    folder, path = outage_folder(tmp_path)
    edit_yaml(path, lambda data: data["answers"][2].update(released_by={"fact": "remedy", "task": "check_customer_charges"}))
    assert problems_of(folder) == [
        f"{path}:answers.2.released_by: give either task (a respond task id) or fact (a fact sheet field), not both or neither"
    ]
    edit_yaml(path, lambda data: data["answers"][2].update(released_by={"fact": "refund_policy"}))
    assert problems_of(folder) == [
        f"{path}:answers.2.released_by.fact: unknown fact sheet field 'refund_policy' (the sheet has: headline, what_happened, "
        "who_is_affected, what_we_are_doing, what_to_do, remedy, status_page, faq)"
    ]
    edit_yaml(path, lambda data: data["answers"][2].update(released_by={"fact": "remedy"}))
    assert load_catalog(folder).answers["technical_outage"].answers[2].released_by.fact == "remedy"


@pytest.fixture
def backlash(catalog) -> Driver:
    return Driver(make_plan(catalog, "customer_backlash"))


def test_an_answer_bound_to_a_fact_waits_for_the_fact_sheet_to_state_it(backlash: Driver):
    backlash.to_assess()
    held = entry(backlash, "refund")
    assert held["released"] is False and held["text"] is None
    assert held["waiting_for"] == {
        "task": None,
        "fact": "remedy",
        "title": "fact sheet: remedy",
        "status": "empty",
        "why": "it asserts what the public fact sheet's 'remedy' states; it is released when that field is filled in",
    }
    with pytest.raises(Rejected, match=r"answer 'refund' is held: .* \(fact sheet field 'remedy' is empty\); adapt it then"):
        backlash.incident.check_answer_proposal("refund", AnswerDraft(person=ANNA, text="Yes, a full refund."))
    backlash.incident.edit_fact_sheet(FactSheetEdit(person=ANNA, fields={"headline": "Loyalty changes"}), backlash.now)
    assert entry(backlash, "refund")["released"] is False
    backlash.incident.edit_fact_sheet(
        FactSheetEdit(person=ANNA, fields={"remedy": "Points taken since Monday are restored by Friday."}), backlash.now
    )
    assert entry(backlash, "refund")["released"] is True and entry(backlash, "refund")["text"]
    assert backlash.state.timeline[-1].message == "Answer 'refund' released: the public fact sheet now states its 'remedy'"
    backlash.incident.edit_fact_sheet(FactSheetEdit(person=ANNA, fields={"remedy": ""}), backlash.now)
    assert entry(backlash, "refund")["released"] is False, "a remedy withdrawn from the sheet holds the answer again"
