"""Approval rules, versions with diffs, the frozen hash, receipts and the fallback statement."""

from domain.actions import StatementDecision, StatementDraft, Verdict
from domain.incident import Receipt, Rejected, StatementStatus, text_sha256
from domain.statements import StatementKind
from tests.unit.conftest import ANNA, KASIA, PIOTR, Driver, make_plan, variant


def _any_of(count: int):
    def mutate(data):
        data["communicate"]["approval"] = {"any": count}

    return mutate


def test_all_rule_needs_every_approver_role(drive: Driver):
    drive.to_communicate()
    statement = drive.system_draft()
    drive.decide(statement.version, PIOTR)
    assert statement.status is StatementStatus.PENDING_APPROVAL
    drive.decide(statement.version, KASIA)
    assert statement.status is StatementStatus.APPROVED


def test_any_rule_is_satisfied_by_that_many_people(catalog):
    playbook = variant(catalog.playbooks["account_compromise"], _any_of(1))
    drive = Driver(make_plan(catalog, playbook))
    drive.to_communicate()
    statement = drive.system_draft()
    drive.decide(statement.version, KASIA)
    assert statement.status is StatementStatus.APPROVED
    assert drive.incident.outstanding_approver_roles(statement) == []
    assert drive.state.timeline[-1].message == f"Statement v{statement.version} approved by 1 approver(s)"


def test_any_rule_keeps_asking_every_role_until_enough(catalog):
    playbook = variant(catalog.playbooks["account_compromise"], _any_of(2))
    drive = Driver(make_plan(catalog, playbook))
    drive.to_communicate()
    statement = drive.system_draft()
    drive.decide(statement.version, KASIA)
    assert statement.status is StatementStatus.PENDING_APPROVAL
    assert set(drive.incident.outstanding_approver_roles(statement)) == set(playbook.communicate.approvers)
    drive.decide(statement.version, PIOTR)
    assert statement.status is StatementStatus.APPROVED


def test_a_new_version_carries_a_diff_from_the_previous_one(drive: Driver):
    drive.to_communicate()
    first = drive.system_draft(text="We are investigating.\nMore soon.")
    second = drive.draft("We are investigating.\nNext update at 15:00 UTC.")
    assert first.diff == ""
    assert f"--- v{first.version}" in second.diff and f"+++ v{second.version}" in second.diff
    assert "-More soon." in second.diff and "+Next update at 15:00 UTC." in second.diff
    assert second.author == ANNA


def test_approval_freezes_the_hash_of_the_text(drive: Driver):
    drive.to_communicate()
    statement = drive.system_draft(text="Exactly this.")
    drive.approve_all(statement.version)
    assert statement.sha256 == text_sha256("Exactly this.")


def test_matching_receipts_are_kept_and_a_different_text_is_flagged(drive: Driver):
    drive.to_communicate()
    statement = drive.system_draft(text="Exactly this.")
    drive.approve_all(statement.version)
    drive.incident.mark_published(
        statement.version,
        drive.now,
        [
            Receipt(channel="outbox", sha256=text_sha256("Exactly this."), provider_id="1"),
            Receipt(channel="status_page", sha256=text_sha256("Exactly this!"), provider_id="2"),
        ],
    )
    assert statement.mismatch
    assert drive.state.timeline[-2].kind == "publication_mismatch" and "status_page" in drive.state.timeline[-2].message


def test_the_fallback_is_approved_by_the_playbook_and_replaces_the_pending_draft(drive: Driver):
    drive.to_communicate()
    pending = drive.system_draft()
    fallback = drive.incident.add_fallback("We know and we are on it.", drive.now)
    assert pending.status is StatementStatus.SUPERSEDED
    assert fallback.fallback and fallback.status is StatementStatus.APPROVED and fallback.kind is StatementKind.HOLDING
    assert fallback.sha256 == text_sha256("We know and we are on it.")
    drive.publish(fallback.version)
    assert drive.state.timeline[-1].message.endswith("published as the fallback")
    assert drive.state.deadlines["first_statement"].met_at == drive.now


def test_a_rejection_keeps_its_comment_for_the_author(drive: Driver):
    drive.to_communicate()
    statement = drive.system_draft()
    drive.incident.check_decision(
        statement.version, StatementDecision(person=KASIA, decision=Verdict.REJECT, comment="Cite the source")
    )
    drive.decide(statement.version, KASIA, Verdict.REJECT, "Cite the source")
    assert statement.status is StatementStatus.REJECTED and statement.decisions[0].comment == "Cite the source"


def test_a_draft_over_the_channels_limit_is_refused_with_the_limit_named(catalog):
    def short_posts(data):
        data["communicate"]["max_length"] = 280

    drive = Driver(make_plan(catalog, variant(catalog.playbooks["account_compromise"], short_posts)))
    drive.to_communicate()
    try:
        drive.incident.check_statement_draft(StatementDraft(person=ANNA, text="x" * 281))
    except Rejected as rejected:
        assert (
            rejected.kind == "invalid" and rejected.message == "text: 281 characters; this playbook's channels take at most 280"
        )
    else:
        raise AssertionError("an oversized draft was accepted")
    drive.incident.check_statement_draft(StatementDraft(person=ANNA, text="x" * 280, title="A title"))


def test_a_template_longer_than_the_limit_is_a_catalog_problem(folder):
    from tests.unit.conftest import edit_yaml, problems_of
    from tests.unit.test_catalog import set_in

    edit_yaml(folder / "misinformation.yaml", set_in("communicate", "max_length", value=40))
    found = problems_of(folder)
    assert found and all("over communicate.max_length 40" in line for line in found)
    assert any(
        line.startswith(f"{folder}/templates/misinformation.en.j2:holding: with an empty fact sheet, renders to ")
        for line in found
    )
