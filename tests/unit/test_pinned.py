"""Open incidents of one playbook share what their plans pinned (domain/pinned.py): equal parts
become one object, different ones stay apart, and nothing about the plan changes."""

import pytest

from domain.answers import pin_answers
from domain.catalog import load_catalog
from domain.incident import IncidentPlan
from domain.pinned import share_pinned, shared
from domain.severity import Severity
from tests.conftest import PROJECT


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(PROJECT / "playbooks")


def decoded_plan(catalog, playbook: str, incident_id: str) -> IncidentPlan:
    """A plan as a workflow run gets it: decoded from its JSON, with parts of its own."""
    book = catalog.playbooks[playbook]
    plan = IncidentPlan(
        id=incident_id,
        title="Payments down",
        summary="Checkout fails.",
        severity=Severity.SEV2,
        language="en",
        playbook=book,
        org=catalog.roster.org_chart(),
        template=catalog.template(book, "en"),
        answers=pin_answers(catalog.answers.get(playbook), "en"),
        internal_templates=catalog.internal_templates(book, "en"),
    )
    return IncidentPlan.model_validate_json(plan.model_dump_json())


def test_two_incidents_of_one_playbook_share_its_pinned_parts(catalog):
    first, second = (decoded_plan(catalog, "technical_outage", f"inc-{n}") for n in (1, 2))
    assert first.playbook is not second.playbook and first.template is not second.template
    before = second.model_dump_json()

    share_pinned(first)
    share_pinned(second)

    assert second.playbook is first.playbook
    assert second.org is first.org
    assert second.template is first.template
    assert second.answers and all(a is b for a, b in zip(second.answers, first.answers))
    assert all(second.internal_templates[k] is v for k, v in first.internal_templates.items())
    assert second.model_dump_json() == before  # the same plan, by every field
    assert second.id == "inc-2" and first.id == "inc-1"


def test_another_playbook_keeps_its_own(catalog):
    outage, hacked = decoded_plan(catalog, "technical_outage", "inc-1"), decoded_plan(catalog, "account_compromise", "inc-2")
    share_pinned(outage)
    share_pinned(hacked)
    assert hacked.playbook is not outage.playbook
    assert hacked.playbook.id == "account_compromise"
    assert hacked.org is outage.org  # one roster


def test_a_changed_roster_is_not_shared_with_the_one_before(catalog):
    plan = decoded_plan(catalog, "technical_outage", "inc-1")
    share_pinned(plan)
    org = plan.org.model_copy(update={"organization": "Another Org"})
    assert shared(org) is org
    assert shared(org.model_copy()) is org


def test_only_frozen_models_are_shared(catalog):
    plan = decoded_plan(catalog, "technical_outage", "inc-1")
    with pytest.raises(TypeError, match="not frozen"):
        shared(plan)
