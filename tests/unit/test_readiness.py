"""Readiness rules on crafted rosters and catalogs: each failing check names its fix."""

from dataclasses import replace
from datetime import date, timedelta

import pytest
import yaml

from domain.catalog import Catalog
from domain.readiness import Status, assess, assess_risk, check_drill, phone_problem
from domain.risks import Risk
from domain.roster import Roster
from tests.unit.conftest import FIXTURES

TODAY = date(2026, 11, 25)


def roster_with(mutate) -> Roster:
    data = yaml.safe_load((FIXTURES / "team.yaml").read_text(encoding="utf-8"))
    mutate(data)
    return Roster.model_validate(data)


def risk_of(catalog: Catalog, risk_id: str) -> Risk:
    return next(r for r in catalog.risks if r.id == risk_id)


def check(result, name: str):
    return next(c for c in result.checks if c.name == name)


@pytest.mark.shipped
def test_the_shipped_plan_is_sound_but_not_ready_until_drilled(catalog: Catalog):
    readiness = assess(catalog, TODAY)
    assert readiness.ready == 0 and readiness.score < 1
    assert {r.risk.id for r in readiness.blocking} == {"health_rumour", "instagram_hijack"}
    for result in readiness.risks:
        assert [c.name for c in result.failing] == ["drill"] and result.only_undrilled
        assert check(result, "drill").detail.startswith("never drilled")
    assert readiness.gate(allow_undrilled=True) == []


@pytest.mark.shipped
def test_the_shipped_plan_is_ready_once_every_playbook_was_drilled(catalog: Catalog):
    drilled = {playbook: TODAY - timedelta(days=1) for playbook in catalog.playbooks}
    readiness = assess(catalog, TODAY, last_drills=drilled)
    assert readiness.ready == len(catalog.risks)
    assert readiness.blocking == [] and readiness.score == 1.0


def test_risks_come_highest_priority_first(catalog: Catalog):
    priorities = [r.risk.priority for r in assess(catalog, TODAY).risks]
    assert priorities == sorted(priorities, reverse=True)


def test_a_paged_role_with_one_person_fails_and_names_the_fix(catalog: Catalog):
    def one_legal(data):
        data["roles"]["legal"]["escalation"] = ["katarzyna.wisniewska"]

    crafted = replace(catalog, roster=roster_with(one_legal))
    result = assess_risk(risk_of(catalog, "health_rumour"), crafted, TODAY)  # misinformation pages legal
    escalation = check(result, "escalation")
    assert escalation.status is Status.FAIL
    assert escalation.detail == "legal has 1 (katarzyna.wisniewska)"
    assert escalation.fix == "add a second person to roles.legal.escalation in team.yaml"
    assert not result.ready
    # a playbook that does not page legal is unaffected
    assert assess_risk(risk_of(catalog, "ordering_outage"), crafted, TODAY, last_drill=TODAY).ready


def test_a_role_policy_counts_everyone_its_levels_page(catalog: Catalog):
    # incident_commander is a policy: Ewa, then James, then every executive sponsor.
    def policy_with_one_level(data):
        data["roles"]["incident_commander"]["escalation"] = {"levels": [{"people": ["ewa.lewandowska"]}]}

    result = assess_risk(risk_of(catalog, "ordering_outage"), replace(catalog, roster=roster_with(policy_with_one_level)), TODAY)
    assert check(result, "escalation").detail == "incident_commander has 1 (ewa.lewandowska)"

    def one_level_two_people(data):
        data["roles"]["incident_commander"]["escalation"] = {"levels": [{"people": ["ewa.lewandowska", "james.whitfield"]}]}

    result = assess_risk(risk_of(catalog, "ordering_outage"), replace(catalog, roster=roster_with(one_level_two_people)), TODAY)
    assert check(result, "escalation").status is Status.PASS


def test_a_bad_phone_number_fails_and_names_the_field(catalog: Catalog):
    def bad_phone(data):
        data["people"][2]["phone"] = "+48000000000"  # anna.kowalska, comms_lead: passes the E.164 shape, no such number

    result = assess_risk(risk_of(catalog, "tone_deaf_post"), replace(catalog, roster=roster_with(bad_phone)), TODAY)
    contacts = check(result, "contacts")
    assert contacts.status is Status.FAIL
    assert contacts.detail == "anna.kowalska: '+48000000000' is not a valid number for its country"
    assert contacts.fix == "correct people.2.phone in team.yaml"


@pytest.mark.parametrize(
    ("phone", "problem"),
    [
        ("+48601204311", None),
        ("+12125550147", None),
        ("+447700900118", None),  # Ofcom's drama range: fictional on purpose
        ("+4860120431", "'+4860120431' is not a valid number for its country"),
        ("+48 601 204 311", "'+48 601 204 311' is not written in E.164 (+ country code, then digits only)"),
        ("601204311", "'601204311' cannot be read as a phone number"),
    ],
)
def test_phone_numbers_are_checked_with_phonenumbers(phone, problem):
    found = phone_problem(phone)
    assert found == problem if problem is None or found is None else found.startswith(problem)


def test_a_missing_template_language_fails_and_names_the_file(catalog: Catalog):
    templates = {key: source for key, source in catalog.templates.items() if key != ("misinformation", "pl")}
    result = assess_risk(risk_of(catalog, "health_rumour"), replace(catalog, templates=templates), TODAY)
    templates_check = check(result, "templates")
    assert templates_check.status is Status.FAIL
    assert templates_check.detail == "no statement template for pl"
    assert templates_check.fix == "write templates/misinformation.pl.j2"


def test_a_template_that_does_not_render_fails(catalog: Catalog):
    templates = dict(catalog.templates) | {("misinformation", "en"): "{{ customer }}"}
    templates_check = check(
        assess_risk(risk_of(catalog, "health_rumour"), replace(catalog, templates=templates), TODAY), "templates"
    )
    assert templates_check.status is Status.FAIL
    assert templates_check.detail.startswith("en: names 'customer', which templates do not have")


def test_a_missing_answers_kit_fails(catalog: Catalog):
    answers = {k: v for k, v in catalog.answers.items() if k != "misinformation"}
    answers_check = check(assess_risk(risk_of(catalog, "health_rumour"), replace(catalog, answers=answers), TODAY), "answers")
    assert answers_check.status is Status.FAIL
    assert answers_check.fix == "write playbooks/answers/misinformation.yaml with answers in en, pl"


def test_a_risk_whose_playbook_is_gone_fails_the_playbook_check_only(catalog: Catalog):
    playbooks = {k: v for k, v in catalog.playbooks.items() if k != "misinformation"}
    result = assess_risk(risk_of(catalog, "health_rumour"), replace(catalog, playbooks=playbooks), TODAY)
    assert [c.name for c in result.checks] == ["playbook", "drill"]
    assert check(result, "playbook").fix.startswith("write playbooks/misinformation.yaml")


def test_drills_within_the_interval_pass_and_overdue_ones_fail(catalog: Catalog):
    risk = risk_of(catalog, "health_rumour")  # every 90 days
    assert check_drill(risk, TODAY - timedelta(days=90), TODAY).status is Status.PASS
    overdue = check_drill(risk, TODAY - timedelta(days=91), TODAY)
    assert overdue.status is Status.FAIL
    assert "overdue" in overdue.detail and overdue.fix.startswith("run a drill of misinformation")
    assert check_drill(risk, None, TODAY).status is Status.FAIL


def test_an_overdue_drill_of_a_critical_risk_blocks(catalog: Catalog):
    drilled = {playbook: TODAY - timedelta(days=1) for playbook in catalog.playbooks} | {
        "misinformation": TODAY - timedelta(days=400)
    }
    readiness = assess(catalog, TODAY, last_drills=drilled)
    assert [r.risk.id for r in readiness.blocking] == ["health_rumour"]
    assert [r.risk.id for r in readiness.gate(allow_undrilled=True)] == ["health_rumour"]  # drilled, but too long ago
    assert 0 < readiness.score < 1


def test_the_overall_score_weighs_risks_by_priority(catalog: Catalog):
    def one_care_lead(data):
        data["roles"]["customer_care_lead"]["escalation"] = ["emily.carter"]

    drilled = {playbook: TODAY - timedelta(days=1) for playbook in catalog.playbooks}
    readiness = assess(replace(catalog, roster=roster_with(one_care_lead)), TODAY, last_drills=drilled)
    unready = {r.risk.id for r in readiness.risks if not r.ready}
    # customer_care_lead is paged by technical_outage, customer_backlash and data_breach
    assert unready == {
        "ordering_outage",
        "loyalty_points_bug",
        "price_rise_backlash",
        "viral_service_complaint",
        "customer_data_exposed",
    }
    assert readiness.blocking == []
    total = sum(r.risk.priority for r in readiness.risks)
    expected = sum(r.score * r.risk.priority for r in readiness.risks) / total
    assert readiness.score == pytest.approx(expected)
    assert readiness.score < 1


def test_a_catalog_without_risks_is_trivially_ready(catalog: Catalog):
    readiness = assess(replace(catalog, risks=[]), TODAY)
    assert (readiness.risks, readiness.score, readiness.blocking) == ((), 1.0, [])
