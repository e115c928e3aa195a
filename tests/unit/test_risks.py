"""The risk register and answers kits: bands, the shipped register, and bad input reported as
``file:path: reason`` by load_catalog (what `crisis playbooks check` prints)."""

from pathlib import Path

import pytest
import yaml

from domain.catalog import Catalog, load_catalog
from domain.playbook import Scenario
from domain.risks import Band, Risk, band_of
from tests.unit.conftest import edit_yaml, problems_of

RISK = {
    "id": "fake_coupons",
    "title": "Fake coupons",
    "scenario": "misinformation",
    "description": "Fake coupons circulate.",
    "likelihood": 3,
    "impact": 2,
    "audiences": ["customers"],
    "owner": "comms_lead",
    "playbook": "misinformation",
    "drill_every": "365d",
}


def write_risks(folder: Path, *risks: dict) -> Path:
    path = folder / "risks.yaml"
    path.write_text(yaml.safe_dump({"risks": list(risks)}, sort_keys=False), encoding="utf-8")
    return path


# ---- priority and bands ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("priority", "band"),
    [
        (1, Band.LOW),
        (4, Band.LOW),
        (5, Band.MEDIUM),
        (9, Band.MEDIUM),
        (10, Band.HIGH),
        (16, Band.HIGH),
        (20, Band.CRITICAL),
        (25, Band.CRITICAL),
    ],
)
def test_bands_split_the_five_by_five_matrix(priority, band):
    assert band_of(priority) is band


def test_priority_is_likelihood_times_impact():
    risk = Risk.model_validate(RISK | {"likelihood": 4, "impact": 5})
    assert (risk.priority, risk.band) == (20, Band.CRITICAL)


# ---- the shipped register -------------------------------------------------------------------


@pytest.mark.shipped
def test_the_shipped_register_covers_every_scenario_family(catalog: Catalog):
    assert {risk.scenario for risk in catalog.risks} == set(Scenario)
    assert any(risk.band is Band.CRITICAL for risk in catalog.risks)
    for risk in catalog.risks:
        assert catalog.playbooks[risk.playbook].scenario is risk.scenario
        assert risk.owner in catalog.roster.roles


@pytest.mark.shipped
def test_the_shipped_folder_has_an_answers_kit_in_english_and_polish_for_every_playbook(catalog: Catalog):
    assert set(catalog.answers) == set(catalog.playbooks)
    for kit in catalog.answers.values():
        assert {"en", "pl"} <= set(kit.languages)
        assert kit.gaps() == []


def test_a_folder_without_risks_yaml_loads_with_an_empty_register(folder: Path):
    catalog = load_catalog(folder)
    assert catalog.risks == []
    assert catalog.answers == {}


def test_risks_yaml_is_not_read_as_a_playbook(folder: Path):
    write_risks(folder, RISK)
    catalog = load_catalog(folder)
    assert set(catalog.playbooks) == {"misinformation"}
    assert [risk.id for risk in catalog.risks] == ["fake_coupons"]


# ---- bad input ------------------------------------------------------------------------------


def test_a_risk_naming_an_unknown_playbook_is_reported(folder: Path):
    path = write_risks(folder, RISK, RISK | {"id": "outage", "scenario": "technical_outage", "playbook": "outage"})
    assert problems_of(folder) == [f"{path}:risks.1.playbook: unknown playbook 'outage' (known: misinformation)"]


def test_a_risk_naming_an_unknown_scenario_is_reported(folder: Path):
    path = write_risks(folder, RISK | {"scenario": "alien_invasion"})
    [problem] = problems_of(folder)
    assert problem.startswith(f"{path}:risks.0.scenario: Input should be 'technical_outage'")


@pytest.mark.parametrize("likelihood", [0, 6])
def test_a_likelihood_outside_one_to_five_is_reported(folder: Path, likelihood):
    path = write_risks(folder, RISK | {"likelihood": likelihood})
    [problem] = problems_of(folder)
    assert problem.startswith(f"{path}:risks.0.likelihood: Input should be")


def test_an_impact_outside_one_to_five_is_reported(folder: Path):
    path = write_risks(folder, RISK | {"impact": 9})
    assert problems_of(folder) == [f"{path}:risks.0.impact: Input should be less than or equal to 5"]


def test_a_risk_whose_playbook_answers_another_scenario_is_reported(folder: Path):
    path = write_risks(folder, RISK | {"scenario": "technical_outage"})
    assert problems_of(folder) == [
        f"{path}:risks.0.scenario: 'technical_outage' but playbook 'misinformation' answers 'misinformation'"
    ]


def test_a_risk_owned_by_an_unknown_role_is_reported(folder: Path):
    path = write_risks(folder, RISK | {"owner": "marketing"})
    [problem] = problems_of(folder)
    assert problem.startswith(f"{path}:risks.0.owner: unknown role 'marketing' (team.yaml has: comms_lead")


def test_every_bad_risk_is_reported_at_once(folder: Path):
    path = write_risks(folder, RISK | {"likelihood": 7}, RISK | {"id": "two", "drill_every": "often", "unknown_field": 1})
    problems = problems_of(folder)
    assert f"{path}:risks.0.likelihood: Input should be less than or equal to 5" in problems
    assert f"{path}:risks.1.drill_every: 'often' is not a duration; write it as 90s, 5m, 2h or 3d" in problems
    assert f"{path}:risks.1.unknown_field: Extra inputs are not permitted" in problems


def test_duplicate_risk_ids_are_reported(folder: Path):
    path = write_risks(folder, RISK, RISK)
    assert problems_of(folder) == [f"{path}:risks.1.id: 'fake_coupons' is used by another risk"]


def test_a_schema_problem_in_one_risk_does_not_hide_another_risks_unknown_playbook(folder: Path):
    path = write_risks(folder, RISK | {"likelihood": 6}, RISK | {"id": "two", "playbook": "outage"})
    assert problems_of(folder) == [
        f"{path}:risks.0.likelihood: Input should be less than or equal to 5",
        f"{path}:risks.1.playbook: unknown playbook 'outage' (known: misinformation)",
    ]


def test_a_register_that_is_not_a_list_of_risks_is_reported(folder: Path):
    (folder / "risks.yaml").write_text("risk:\n  - id: x\n", encoding="utf-8")
    problems = problems_of(folder)
    assert f"{folder}/risks.yaml:risks: Field required" in problems
    assert f"{folder}/risks.yaml:risk: Extra inputs are not permitted" in problems


def test_an_empty_register_is_reported(folder: Path):
    path = write_risks(folder)
    assert problems_of(folder) == [f"{path}:risks: List should have at least 1 item after validation, not 0"]


def test_a_broken_playbook_is_reported_once_not_again_by_its_risks(full_folder: Path):
    edit_yaml(full_folder / "misinformation.yaml", lambda data: data.pop("communicate"))
    problems = problems_of(full_folder)
    assert problems == [f"{full_folder}/misinformation.yaml:communicate: Field required"]


# ---- answers kits ---------------------------------------------------------------------------

KIT = {
    "languages": ["en", "pl"],
    "answers": [
        {"id": "is_it_true", "question": {"en": "Is it true?", "pl": "Czy to prawda?"}, "answer": {"en": "No.", "pl": "Nie."}}
    ],
}


def write_kit(folder: Path, name: str, kit: dict) -> Path:
    (folder / "answers").mkdir(exist_ok=True)
    path = folder / "answers" / f"{name}.yaml"
    path.write_text(yaml.safe_dump(kit, allow_unicode=True), encoding="utf-8")
    return path


def test_an_answers_kit_is_loaded_for_its_playbook(folder: Path):
    write_kit(folder, "misinformation", KIT)
    kit = load_catalog(folder).answers["misinformation"]
    assert kit.in_language("pl") == [("Czy to prawda?", "Nie.")]


def test_an_answer_missing_a_language_is_reported(folder: Path):
    kit = {"answers": [KIT["answers"][0] | {"answer": {"en": "No."}}]}
    path = write_kit(folder, "misinformation", kit)
    assert problems_of(folder) == [f"{path}:answers.0.answer.pl: missing the 'pl' text"]


def test_an_answers_kit_for_an_unknown_playbook_is_reported(folder: Path):
    path = write_kit(folder, "outage", KIT)
    [problem] = problems_of(folder)
    assert problem.startswith(f"{path}: names no playbook")


def test_an_answers_kit_must_cover_its_playbooks_languages(folder: Path):
    edit_yaml(folder / "misinformation.yaml", lambda data: data.update(languages=["en"]))
    kit = {"languages": ["de"], "answers": [{"id": "q", "question": {"de": "Stimmt das?"}, "answer": {"de": "Nein."}}]}
    path = write_kit(folder, "misinformation", kit)
    assert problems_of(folder) == [f"{path}:languages: must include 'en', a language of playbook 'misinformation'"]
