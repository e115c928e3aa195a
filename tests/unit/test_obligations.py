"""Legal clocks in a playbook (``obligations``): the data-breach playbook's GDPR art. 33 and 34
deadlines run from declaration, are met by their tasks, keep the incident open while their task is
open, and show on the incident and in the report like every deadline."""

from datetime import timedelta

import pytest

from domain import metrics
from domain.actions import Resolution
from domain.factsheet import FactSheet
from domain.incident import Rejected
from domain.statements import StatementContext, StatementKind, names_problems, render_statement
from tests.unit.conftest import EWA, T0, Driver, copy_fixtures, edit_yaml, make_plan, problems_of

ART33 = "obligation.gdpr_art33_authority"
ART34 = "obligation.gdpr_art34_people"
DPO = "magdalena.dabrowska"


@pytest.fixture
def breach(catalog) -> Driver:
    return Driver(make_plan(catalog, "data_breach"))


def deadline(drive: Driver, name: str) -> dict:
    return next(d for d in drive.incident.view(drive.now).model_dump(mode="json")["deadlines"] if d["name"] == name)


def test_the_gdpr_clocks_start_at_declaration(breach: Driver):
    art33, art34 = deadline(breach, ART33), deadline(breach, ART34)
    assert (
        art33["due_at"] == "2026-01-04T00:00:00Z"
        and T0 + timedelta(hours=72) == breach.state.deadlines[ART33].due_at
        and art33["status"] == "open"
    )
    assert art33["label"] == "Supervisory authority notified (GDPR art. 33; UODO in Poland, ICO in the UK), 72 h from awareness"
    assert art34["label"].startswith("People affected told without undue delay when the risk is high (GDPR art. 34")


def test_the_data_protection_officer_approves_and_legal_is_paged(catalog):
    playbook = catalog.playbooks["data_breach"]
    assert playbook.scenario.value == "data_breach" and playbook.languages == ["en", "pl"]
    assert "data_protection_officer" in playbook.communicate.approvers
    assert {"legal", "data_protection_officer"} <= set(playbook.identify.page)
    assert catalog.roster.org_chart().members("data_protection_officer") == [DPO, "katarzyna.wisniewska"]


def test_the_notifying_task_meets_its_obligation(breach: Driver):
    breach.to_respond()
    breach.tick(hours=30)
    breach.complete("notify_supervisory_authority", person=DPO, note="UODO case 2026/123")
    assert deadline(breach, ART33)["status"] == "met" and deadline(breach, ART34)["status"] == "open"


def test_a_notification_after_72_hours_is_missed(breach: Driver):
    breach.to_respond()
    breach.tick(hours=73)
    breach.complete("notify_supervisory_authority", person=DPO)
    assert deadline(breach, ART33)["status"] == "missed"


def test_the_incident_cannot_be_resolved_while_an_obligations_task_is_open(breach: Driver):
    breach.to_respond()
    for task in breach.incident.open_tasks():
        if task.id != "notify_affected_people":
            breach.complete(task.id)
    breach.enter(breach.incident.phase.COMMUNICATE)
    with pytest.raises(Rejected) as info:
        breach.incident.check_resolve(Resolution(person=EWA, summary="Contained."))
    assert (
        info.value.message
        == "the task 'Tell the people affected (GDPR art. 34)' is still open and meets an obligation: People affected told"
        " without undue delay when the risk is high (GDPR art. 34; this plan allows 72 h) (due 2026-01-04 00:00 UTC); complete"
        " it first, with a note saying why if it is not required"
    )
    breach.complete("notify_affected_people", person=DPO, note="Not required: the DPO judged the risk low (breach register #7).")
    breach.resolve()
    assert breach.incident.resolved


def test_a_false_alarm_closed_before_the_respond_phase_waives_the_clocks(breach: Driver):
    breach.to_assess()
    breach.resolve(summary="False alarm: no personal data was involved.")
    breach.incident.cancel_open_tasks(breach.now)
    assert deadline(breach, ART33)["status"] == "waived" and deadline(breach, ART34)["status"] == "waived"
    waived = [e.message for e in breach.state.timeline if e.kind == "obligation_waived"]
    assert (
        waived[0]
        == "Deadline waived: Supervisory authority notified (GDPR art. 33; UODO in Poland, ICO in the UK), 72 h from awareness"
        " (resolved before the respond phase)"
    )


def test_the_report_counts_the_legal_deadlines(breach: Driver):
    breach.to_respond()
    breach.tick(hours=80)
    for task in breach.incident.open_tasks():
        breach.complete(task.id)
    results = {d.name: d for d in metrics.compute(breach.state, "incident_commander", breach.now).deadlines}
    assert results[ART33].status == "missed" and metrics.margin_text(results[ART33]) == "8 h late"
    assert results[ART33].label.startswith("Supervisory authority notified (GDPR art. 33")


def test_an_obligation_must_name_a_task_of_the_playbook(tmp_path):
    folder = copy_fixtures(tmp_path / "playbooks", only=("data_breach",))
    path = folder / "data_breach.yaml"
    edit_yaml(path, lambda data: data["obligations"][0].update(met_by="call_the_regulator"))
    (problem,) = problems_of(folder)
    assert problem.startswith(
        f"{path}: obligations.0.met_by: unknown task 'call_the_regulator' (respond.tasks has: contain_exposure, "
    )


def test_obligation_ids_are_unique(tmp_path):
    folder = copy_fixtures(tmp_path / "playbooks", only=("data_breach",))
    path = folder / "data_breach.yaml"
    edit_yaml(path, lambda data: data["obligations"][1].update(id="gdpr_art33_authority"))
    assert problems_of(folder) == [f"{path}: obligations: ids must be unique, repeated: gdpr_art33_authority"]


@pytest.mark.parametrize("language", ["en", "pl"])
def test_the_data_breach_statements_read_only_the_public_fact_sheet(catalog, language):
    sheet = FactSheet(
        headline="Customer emails exposed",
        what_happened="A server exposed names and emails of app customers.",
        faq="https://www.northwind.example/data-incident",
    )
    template = catalog.templates[("data_breach", language)]
    assert names_problems(template) == []  # no internal title, summary, severity, facts or resolution
    for kind in StatementKind:
        for facts in (FactSheet(), sheet):
            text = render_statement(
                template, StatementContext(kind=kind, organization="Northwind Coffee", next_update="15:30", fact_sheet=facts)
            )
            assert ("Customer emails exposed" in text) is (facts is sheet)
