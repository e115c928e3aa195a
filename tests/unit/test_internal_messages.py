"""Internal and partner messages as rules: a playbook's internal audiences, their roster groups
(distribution lists too) and templates checked with the folder, and each message approved under
the statements' rule, revised, sent once, withdrawn at close."""

import pytest

from domain.actions import StatementDecision, StatementDraft, Verdict
from domain.incident import InternalStatus, Phase, Rejected
from domain.messages import internal_mark
from tests.unit.conftest import ANNA, EWA, MARIA, Driver, copy_fixtures, edit_yaml, make_plan, problems_of

JAKUB = "jakub.mazur"


@pytest.fixture
def outage(catalog) -> Driver:
    return Driver(make_plan(catalog, "technical_outage"))


def drafted(drive: Driver) -> Driver:
    drive.to_communicate()
    for audience in drive.incident.playbook.internal:
        drive.incident.add_internal(audience.id, "Do not comment.", "crisisflow", drive.now)
    return drive


def decide(
    drive: Driver, audience: str, version: int, person: str, verdict: Verdict = Verdict.APPROVE, comment: str | None = None
) -> None:
    action = StatementDecision(person=person, decision=verdict, comment=comment)
    drive.incident.check_internal_decision(audience, version, action)
    drive.incident.decide_internal(audience, version, action, drive.now)


def refusal(check) -> str:
    with pytest.raises(Rejected) as info:
        check()
    return info.value.message


@pytest.mark.shipped
def test_the_shipped_audiences_and_their_groups(catalog):
    outage = catalog.playbooks["technical_outage"]
    assert [(a.id, a.groups) for a in outage.internal] == [("all_staff", ["all_staff"]), ("store_staff", ["store_staff"])]
    assert [(a.id, a.groups) for a in catalog.playbooks["data_breach"].internal] == [
        ("all_staff", ["all_staff"]),
        ("partners", ["partners"]),
    ]
    assert catalog.roster.group_addresses(["store_staff", "executives"]) == [
        ("sarah.collins", "sarah.collins@northwind.example"),
        ("james.whitfield", "james.whitfield@northwind.example"),
        (None, "store-managers@northwind.example"),
        (None, "franchise-partners@northwind.example"),
    ]
    assert set(catalog.internal_templates(outage, "pl")) == {"all_staff", "store_staff"}


def test_every_message_opens_with_the_internal_mark_in_its_language():
    assert (
        internal_mark("en", "All staff") == "INTERNAL – for All staff only. Do not forward, post or quote it outside the company."
    )
    assert internal_mark("pl", "Wszyscy pracownicy").startswith("WEWNĘTRZNE – tylko dla: Wszyscy pracownicy.")


def test_approved_under_the_statements_rule_then_sent_once(outage: Driver):
    drafted(outage)
    pending = [(p.audience, p.role) for p in outage.incident.pending(outage.now) if p.kind == "internal_approval"]
    assert pending == [
        ("all_staff", "incident_commander"),
        ("all_staff", "engineering_on_call"),
        ("store_staff", "incident_commander"),
        ("store_staff", "engineering_on_call"),
    ]
    decide(outage, "all_staff", 1, EWA)
    assert outage.incident.internal_to_send() == []
    decide(outage, "all_staff", 1, JAKUB)
    (ready,) = outage.incident.internal_to_send()
    assert ready.text == "INTERNAL – for All staff only. Do not forward, post or quote it outside the company.\n\nDo not comment."
    outage.incident.mark_internal_sent(ready.number, 1, outage.now)
    assert ready.status is InternalStatus.SENT and ready.reached == 1
    assert outage.state.timeline[-1].message == "Internal message for All staff v1 sent: 1 email(s)"
    assert (
        refusal(
            lambda: outage.incident.check_internal_decision("all_staff", 1, StatementDecision(person=EWA, decision="approve"))
        )
        == "the message for 'all_staff' v1 is sent; nothing to decide"
    )


def test_changes_requested_then_a_revision_supersedes(outage: Driver):
    drafted(outage)
    decide(outage, "store_staff", 1, JAKUB, Verdict.REJECT, "Give the workaround.")
    assert [p.kind for p in outage.incident.pending(outage.now) if getattr(p, "audience", None) == "store_staff"] == [
        "internal_draft"
    ]
    action = StatementDraft(person=ANNA, text="Customers can pay at the counter.")
    outage.incident.check_internal_draft("store_staff", action)
    revised = outage.incident.add_internal("store_staff", action.text, ANNA, outage.now)
    assert (revised.version, revised.status) == (
        2,
        InternalStatus.PENDING_APPROVAL,
    ) and "+Customers can pay at the counter." in revised.diff


def test_refusals_name_what_is_wrong(outage: Driver):
    outage.to_respond()
    draft = StatementDraft(person=ANNA, text="x")
    assert refusal(lambda: outage.incident.check_internal_draft("all_staff", draft)).startswith(
        "cannot revise internal messages in the respond phase"
    )
    drive = drafted(Driver(outage.incident.plan))
    assert (
        refusal(lambda: drive.incident.check_internal_draft("press", draft))
        == "audience: unknown internal audience 'press' (this playbook has: all_staff, store_staff)"
    )
    assert refusal(lambda: drive.incident.check_internal_draft("all_staff", StatementDraft(person=MARIA, text="x"))).startswith(
        f"person: '{MARIA}' cannot revise internal messages"
    )
    assert (
        refusal(lambda: drive.incident.check_internal_decision("all_staff", 3, StatementDecision(person=EWA, decision="approve")))
        == "version: the message for 'all_staff' has no version 3 (drafted: v1)"
    )
    assert refusal(
        lambda: drive.incident.check_internal_decision("all_staff", 1, StatementDecision(person=ANNA, decision="approve"))
    ).startswith(f"person: '{ANNA}' cannot decide on internal messages")


def test_messages_never_approved_are_withdrawn_at_close(outage: Driver):
    drafted(outage)
    outage.incident.withdraw_internal(outage.now)
    assert [m.status for m in outage.state.internal_messages] == [InternalStatus.WITHDRAWN, InternalStatus.WITHDRAWN]
    outage.enter(Phase.CLOSED)
    assert not [p for p in outage.incident.pending(outage.now) if p.kind.startswith("internal")]


def test_the_folder_check_names_a_missing_template_and_an_unknown_group(tmp_path):
    folder = copy_fixtures(tmp_path / "playbooks", only=("technical_outage",))
    path = folder / "technical_outage.yaml"
    (folder / "templates" / "technical_outage_store_staff.pl.j2").unlink()
    edit_yaml(path, lambda data: data["internal"][0].update(groups=["everyone"]))
    problems = problems_of(folder)
    assert (
        f"{path}:internal.0.groups.0: unknown stakeholder group 'everyone' (team.yaml has: all_staff, customer_support,"
        " executives, legal, partners, store_staff)" in problems
    )
    assert f"{path}:internal.1.template: templates/technical_outage_store_staff.pl.j2 is missing for language 'pl'" in problems


def test_a_group_address_must_be_an_email(tmp_path):
    folder = copy_fixtures(tmp_path / "playbooks", only=("technical_outage",))
    edit_yaml(folder / "team.yaml", lambda data: data["stakeholders"]["all_staff"].update(emails=["all staff"]))
    assert problems_of(folder) == [f"{folder}/team.yaml:stakeholders.all_staff.emails: 'all staff' is not an email address"]
