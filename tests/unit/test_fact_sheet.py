"""The public fact sheet: edited by the comms lead or the commander, versioned, on the timeline,
filled by the assessment; the only thing statement templates read about the incident."""

import pytest
from pydantic import ValidationError

from domain.actions import FactSheetEdit
from domain.factsheet import FactSheet, FactSheetFields
from domain.incident import Incident, Rejected
from domain.severity import Severity
from domain.statements import StatementContext, StatementKind, render_statement
from tests.unit.conftest import ANNA, EWA, MARIA, T0, Driver, make_plan


def edit(drive: Driver, person: str = ANNA, **fields) -> None:
    action = FactSheetEdit(person=person, fields=FactSheetFields(**fields))
    drive.incident.check_fact_sheet_edit(action)
    drive.incident.edit_fact_sheet(action, drive.now)


def rejection(incident: Incident, person: str = ANNA, **fields) -> Rejected:
    with pytest.raises(Rejected) as info:
        incident.check_fact_sheet_edit(FactSheetEdit(person=person, fields=FactSheetFields(**fields)))
    return info.value


def test_a_new_incident_has_an_empty_fact_sheet_apart_from_its_internal_title(drive: Driver):
    assert drive.state.fact_sheet == FactSheet()
    assert drive.state.fact_sheet.is_empty()
    assert drive.state.fact_sheet_versions == []
    assert drive.state.title == "Instagram account hijacked"  # internal, kept where it was


def test_the_comms_lead_edits_the_fact_sheet_in_versions_on_the_timeline(drive: Driver):
    edit(drive, headline="Our Instagram account was taken over", status_page="https://status.example.com")
    drive.tick(minutes=5)
    edit(
        drive,
        what_to_do="Do not click links in our Instagram posts or messages today.",
        headline="Our Instagram account was taken over",
    )
    sheet = drive.state.fact_sheet
    assert sheet.headline == "Our Instagram account was taken over"
    assert sheet.what_to_do.startswith("Do not click")
    assert sheet.status_page == "https://status.example.com"
    versions = drive.state.fact_sheet_versions
    assert [(v.version, v.author, v.changed) for v in versions] == [
        (1, ANNA, ["headline", "status_page"]),
        (2, ANNA, ["what_to_do"]),  # the headline given again unchanged is not a change
    ]
    assert versions[0].sheet.what_to_do == ""  # each version keeps the whole sheet as it was
    events = [e for e in drive.state.timeline if e.kind == "fact_sheet_edited"]
    assert [e.message for e in events] == [
        f"Public fact sheet v1 by {ANNA}: headline, status_page",
        f"Public fact sheet v2 by {ANNA}: what_to_do",
    ]
    assert events[1].data["changed"] == ["what_to_do"] and events[1].actor == ANNA


def test_an_empty_string_clears_a_field_and_an_omitted_one_stays(drive: Driver):
    edit(drive, headline="Our app is down", remedy="We will refund every failed order.")
    edit(drive, remedy="")
    assert (drive.state.fact_sheet.headline, drive.state.fact_sheet.remedy) == ("Our app is down", "")


def test_an_edit_that_changes_nothing_is_refused_naming_the_field(drive: Driver):
    edit(drive, headline="Our app is down")
    refused = rejection(drive.incident, headline="Our app is down")
    assert (refused.kind, refused.message) == (
        "invalid",
        "fields: nothing would change; give at least one field with a new value",
    )
    assert rejection(drive.incident).kind == "invalid"


def test_only_the_comms_lead_or_commander_roles_edit_the_fact_sheet(drive: Driver):
    refused = rejection(drive.incident, person=MARIA, headline="Hello")
    assert refused.kind == "invalid"
    assert "cannot edit the public fact sheet; that needs the role comms_lead or incident_commander" in refused.message
    assert rejection(drive.incident, person="nobody", headline="Hello").message == "person: 'nobody' is not in the team roster"
    edit(drive, person=EWA, headline="Hello")  # the commander may


def test_a_closed_incident_takes_no_edit(drive: Driver):
    drive.to_closed()
    refused = rejection(drive.incident, headline="Late")
    assert (refused.kind, refused.message) == ("conflict", "the incident is closed")


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"headline": "x" * 91}, "headline"),
        ({"status_page": "status.example.com"}, "status_page"),
        ({"faq": "javascript:alert(1)"}, "faq"),
        ({"faq": "https://user:secret@example.com/faq"}, "faq"),
        ({"title": "internal"}, "title"),
    ],
)
def test_a_bad_field_is_refused_by_its_name(fields: dict, where: str):
    with pytest.raises(ValidationError) as info:
        FactSheetEdit(person=ANNA, fields=fields)
    assert info.value.errors()[0]["loc"][-1] == where


def test_the_assessment_fills_the_fact_sheet(drive: Driver):
    drive.to_assess()
    drive.assess(
        severity=Severity.SEV1,
        facts=["The attacker reset the password at 09:12."],  # internal: stays in the assessment
        fact_sheet=FactSheetFields(
            headline="Our Instagram account was taken over", who_is_affected="Followers who got direct messages from us today."
        ),
    )
    assert drive.state.fact_sheet.headline == "Our Instagram account was taken over"
    assert drive.state.fact_sheet_versions[-1].author == EWA
    kinds = [e.kind for e in drive.state.timeline]
    assert kinds.index("fact_sheet_edited") == kinds.index("assessed") + 1


def test_an_assessment_without_a_fact_sheet_adds_no_version(drive: Driver):
    drive.to_assess()
    drive.assess()
    assert drive.state.fact_sheet_versions == []
    assert "fact_sheet_edited" not in [e.kind for e in drive.state.timeline]


def test_a_headline_given_at_declaration_is_version_one(catalog):
    plan = make_plan(catalog).model_copy(update={"fact_sheet": FactSheetFields(headline="Our Instagram account was taken over")})
    incident = Incident(plan, T0)
    assert incident.state.fact_sheet.headline == "Our Instagram account was taken over"
    assert [(v.version, v.author) for v in incident.state.fact_sheet_versions] == [(1, EWA)]
    assert [e.kind for e in incident.state.timeline] == ["declared", "fact_sheet_edited"]


def test_templates_read_the_fact_sheet_fields_by_name():
    sheet = FactSheet(headline="Our app is down", what_to_do="Pay at the counter.", status_page="https://status.example.com")
    context = StatementContext(kind=StatementKind.HOLDING, organization="Northwind", fact_sheet=sheet)
    source = "{{ headline }} | {{ what_to_do }} | {{ status_page }} | {{ remedy }}|"
    assert render_statement(source, context) == "Our app is down | Pay at the counter. | https://status.example.com | |"


def test_the_view_shows_the_fact_sheet_and_its_versions(drive: Driver):
    edit(drive, headline="Our app is down")
    view = drive.incident.view(drive.now).model_dump(mode="json")
    assert view["fact_sheet"]["headline"] == "Our app is down"
    assert view["fact_sheet_versions"][0]["changed"] == ["headline"]
