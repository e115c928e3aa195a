import json
from datetime import timedelta

import pytest
import yaml
from pydantic import ValidationError

from domain.roster import OrgChart, Person, Roster
from tests.unit.conftest import FIXTURES, SHIPPED


def person(**overrides) -> dict:
    data = {
        "id": "ada.lovelace",
        "name": "Ada Lovelace",
        "roles": ["incident_commander"],
        "phone": "+48601234567",
        "email": "ada@example.com",
        "timezone": "Europe/Warsaw",
    }
    data.update(overrides)
    return data


def roster(people: list[dict], roles: dict) -> Roster:
    return Roster.model_validate({"organization": {"name": "Example"}, "people": people, "roles": roles})


def only_error(info: pytest.ExceptionInfo) -> tuple[tuple, str]:
    [error] = info.value.errors()
    return error["loc"], error["msg"].removeprefix("Value error, ")


# ---- Person ---------------------------------------------------------------------------------


def test_a_valid_person():
    ada = Person.model_validate(person())
    assert (ada.id, ada.phone, ada.email, ada.timezone) == ("ada.lovelace", "+48601234567", "ada@example.com", "Europe/Warsaw")


def test_timezone_defaults_to_utc():
    data = person()
    del data["timezone"]
    assert Person.model_validate(data).timezone == "UTC"


@pytest.mark.parametrize("phone", ["+48601234567", "+447700900118", "+12125550147", "+1234567", "+123456789012345"])
def test_e164_phone_numbers_are_accepted(phone):
    assert Person.model_validate(person(phone=phone)).phone == phone


@pytest.mark.parametrize(
    "phone",
    [
        "48601234567",  # no plus
        "+048601234567",  # country code cannot start with 0
        "+48 601 234 567",  # spaces
        "+48-601-234-567",
        "+123456",  # too short
        "+1234567890123456",  # 16 digits: longer than E.164 allows
        "",
        "+48601234567x",
    ],
)
def test_phone_numbers_that_are_not_e164_are_rejected(phone):
    with pytest.raises(ValidationError) as info:
        Person.model_validate(person(phone=phone))
    assert only_error(info) == (("phone",), f"'{phone}' is not an E.164 phone number (like +48601234567)")


def test_an_unquoted_yaml_phone_number_is_rejected_as_not_a_string():
    data = person(phone=yaml.safe_load("+48601234567"))  # YAML reads it as an int
    with pytest.raises(ValidationError) as info:
        Person.model_validate(data)
    assert only_error(info) == (("phone",), "Input should be a valid string")


@pytest.mark.parametrize("email", ["ada@example.com", "a.b+c@mail.example.co.uk"])
def test_email_addresses_are_accepted(email):
    assert Person.model_validate(person(email=email)).email == email


@pytest.mark.parametrize("email", ["ada", "ada@example", "@example.com", "ada@@example.com", "ada lovelace@example.com", ""])
def test_strings_that_are_not_email_addresses_are_rejected(email):
    with pytest.raises(ValidationError) as info:
        Person.model_validate(person(email=email))
    assert only_error(info) == (("email",), f"'{email}' is not an email address")


@pytest.mark.parametrize("zone", ["UTC", "Europe/Warsaw", "Europe/London", "America/New_York"])
def test_iana_time_zones_are_accepted(zone):
    assert Person.model_validate(person(timezone=zone)).timezone == zone


def test_the_organisation_s_time_zone_reaches_the_org_chart_and_an_unknown_one_is_refused():
    from domain.roster import Organization

    assert Organization(name="Northwind").timezone == "UTC"
    assert Organization(name="Northwind", timezone="Europe/Warsaw").timezone == "Europe/Warsaw"
    with pytest.raises(ValidationError) as info:
        Organization(name="Northwind", timezone="Europe/Warszawa")
    assert only_error(info) == (("timezone",), "'Europe/Warszawa' is not a time zone name (like Europe/Warsaw)")
    raw = yaml.safe_load((FIXTURES / "team.yaml").read_text(encoding="utf-8"))
    assert Roster.model_validate(raw).org_chart().timezone == "Europe/Warsaw"


@pytest.mark.parametrize("zone", ["Mars/Olympus", "CEST+1", "europe/warsaw", "", "/etc/localtime", "../Europe/Warsaw", "Europe/"])
def test_unknown_time_zones_are_rejected(zone):
    with pytest.raises(ValidationError) as info:
        Person.model_validate(person(timezone=zone))
    assert only_error(info) == (("timezone",), f"'{zone}' is not a time zone name (like Europe/Warsaw)")


@pytest.mark.parametrize("ident", ["Ada", "1ada", "ada lovelace", "", "ada@home"])
def test_person_ids_must_be_lowercase_identifiers(ident):
    with pytest.raises(ValidationError) as info:
        Person.model_validate(person(id=ident))
    assert only_error(info)[0] == ("id",)


def test_a_person_needs_at_least_one_role():
    with pytest.raises(ValidationError) as info:
        Person.model_validate(person(roles=[]))
    assert only_error(info)[0] == ("roles",)


def test_unknown_person_fields_are_rejected():
    with pytest.raises(ValidationError) as info:
        Person.model_validate(person(pager="123"))
    assert only_error(info) == (("pager",), "Extra inputs are not permitted")


def test_every_invalid_field_of_a_person_is_reported_at_once():
    with pytest.raises(ValidationError) as info:
        Person.model_validate(person(phone="601", email="nope", timezone="Nowhere"))
    assert {error["loc"] for error in info.value.errors()} == {("phone",), ("email",), ("timezone",)}


# ---- Roster.problems ------------------------------------------------------------------------


def test_a_consistent_roster_has_no_problems():
    team = roster(
        [person(id="ada", roles=["lead"]), person(id="bob", roles=["lead", "legal"])],
        {"lead": {"escalation": ["ada", "bob"]}, "legal": {"escalation": ["bob"]}},
    )
    assert team.problems() == []


def test_the_shipped_roster_has_no_problems():
    team = Roster.model_validate(yaml.safe_load((SHIPPED / "team.yaml").read_text(encoding="utf-8")))
    assert team.problems() == []


def test_a_duplicate_person_id_is_a_problem_at_the_second_occurrence():
    team = roster(
        [person(id="ada", roles=["lead"]), person(id="bob", roles=["lead"]), person(id="ada", roles=["lead"])],
        {"lead": {"escalation": ["ada", "bob"]}},
    )
    assert team.problems() == [("people.2.id", "'ada' is listed twice")]


def test_a_person_holding_an_undefined_role_is_a_problem():
    team = roster([person(id="ada", roles=["lead", "wizard"])], {"lead": {"escalation": ["ada"]}})
    assert team.problems() == [("people.0.roles", "unknown role 'wizard'")]


def test_an_escalation_naming_an_unknown_person_is_a_problem():
    team = roster([person(id="ada", roles=["lead"])], {"lead": {"escalation": ["ada", "ghost"]}})
    assert team.problems() == [("roles.lead.escalation.1", "unknown person 'ghost'")]


def test_an_escalation_naming_a_person_without_the_role_is_a_problem():
    team = roster(
        [person(id="ada", roles=["lead"]), person(id="bob", roles=["legal"])],
        {"lead": {"escalation": ["ada", "bob"]}, "legal": {"escalation": ["bob"]}},
    )
    assert team.problems() == [("roles.lead.escalation.1", "'bob' does not have the role 'lead'")]


def test_every_roster_problem_is_reported_at_once():
    team = roster(
        [person(id="ada", roles=["lead", "wizard"]), person(id="ada", roles=["lead"])],
        {"lead": {"escalation": ["ada", "ghost"]}},
    )
    assert team.problems() == [
        ("people.1.id", "'ada' is listed twice"),
        ("people.0.roles", "unknown role 'wizard'"),
        ("roles.lead.escalation.1", "unknown person 'ghost'"),
    ]


def test_a_role_needs_an_escalation_order():
    with pytest.raises(ValidationError) as info:
        roster([person(id="ada", roles=["lead"])], {"lead": {"escalation": []}})
    assert all(error["loc"][:3] == ("roles", "lead", "escalation") for error in info.value.errors())


def test_a_roster_needs_people_and_roles():
    with pytest.raises(ValidationError) as info:
        roster([], {})
    assert {error["loc"] for error in info.value.errors()} == {("people",), ("roles",)}


def test_person_looks_up_by_id():
    team = roster([person(id="ada", roles=["lead"])], {"lead": {"escalation": ["ada"]}})
    assert team.person("ada").name == "Ada Lovelace"
    assert team.person("nobody") is None


# ---- OrgChart -------------------------------------------------------------------------------


@pytest.fixture
def team() -> Roster:
    return roster(
        [
            person(id="ada", roles=["lead"], phone="+48601000001", email="ada@example.com"),
            person(id="bob", roles=["lead", "legal"], phone="+48601000002", email="bob@example.com"),
        ],
        {"lead": {"escalation": ["ada", "bob"]}, "legal": {"escalation": ["bob"]}},
    )


def test_org_chart_lists_people_and_escalation_orders_by_id(team):
    chart = team.org_chart()
    assert chart.organization == "Example" and chart.people == ["ada", "bob"]
    assert chart.escalation == {"lead": ["ada", "bob"], "legal": ["bob"]}
    assert [level.people for level in chart.policy("lead").levels] == [["ada"], ["bob"]]


def test_org_chart_carries_no_phone_or_email(team):
    dumped = team.org_chart().model_dump_json()
    for contact in ("+48601000001", "+48601000002", "ada@example.com", "bob@example.com"):
        assert contact not in dumped


def test_org_chart_of_the_shipped_roster_carries_no_contact():
    raw = yaml.safe_load((SHIPPED / "team.yaml").read_text(encoding="utf-8"))
    dumped = json.dumps(Roster.model_validate(raw).org_chart().model_dump(mode="json"))
    contacts = [p["phone"] for p in raw["people"]] + [p["email"] for p in raw["people"]]
    assert [c for c in contacts if c in dumped] == []
    assert set(OrgChart.model_fields) == {"organization", "timezone", "people", "escalation", "policies"}


def test_org_chart_members_follow_the_escalation_order(team):
    chart = team.org_chart()
    assert chart.members("lead") == ["ada", "bob"]
    assert chart.members("unknown") == []


def test_org_chart_members_is_a_copy(team):
    chart = team.org_chart()
    chart.members("lead").append("mallory")
    assert chart.members("lead") == ["ada", "bob"]


def _team() -> list[dict]:
    return [
        person(id="ada", roles=["lead"], phone="+48601000001"),
        person(id="bob", roles=["lead"], phone="+48601000002"),
        person(id="cy", roles=["boss"], phone="+48601000003"),
        person(id="di", roles=["boss"], phone="+48601000004"),
    ]


def test_an_escalation_policy_pages_levels_of_people_and_roles():
    team = roster(
        _team(),
        {
            "boss": {"escalation": ["cy", "di"]},
            "lead": {
                "escalation": {
                    "levels": [{"people": ["ada", "bob"], "channels": ["sms"], "wait": "2m"}, {"roles": ["boss"]}],
                    "repeat": 2,
                }
            },
        },
    )
    assert team.problems() == []
    policy = team.org_chart().policy("lead")
    assert [level.people for level in policy.levels] == [["ada", "bob"], ["cy", "di"]]
    assert policy.levels[0].channels == ["sms"] and policy.levels[0].wait == timedelta(minutes=2)
    assert policy.levels[1].channels == ["sms", "email"] and policy.levels[1].wait is None
    assert policy.repeat == 2
    assert team.org_chart().members("lead") == ["ada", "bob", "cy", "di"]


def test_a_policy_level_must_name_someone():
    with pytest.raises(ValidationError) as info:
        roster(_team(), {"lead": {"escalation": {"levels": [{"channels": ["sms"]}]}}})
    assert any("names people or roles" in error["msg"] for error in info.value.errors())


def test_policy_references_are_checked_with_their_paths():
    team = roster(_team(), {"lead": {"escalation": {"levels": [{"people": ["zed"]}, {"roles": ["ghosts"]}]}}})
    assert ("roles.lead.escalation.levels.0.people.0", "unknown person 'zed'") in team.problems()
    assert ("roles.lead.escalation.levels.1.roles.0", "unknown role 'ghosts'") in team.problems()


def test_policy_channels_are_sms_email_or_call():
    with pytest.raises(ValidationError):
        roster(_team(), {"lead": {"escalation": {"levels": [{"people": ["ada"], "channels": ["pigeon"]}]}}})


def test_a_policy_level_may_phone_its_people():
    team = roster(
        _team(),
        {
            "lead": {
                "escalation": {
                    "levels": [{"people": ["ada"], "channels": ["call"]}, {"people": ["bob"], "channels": ["call", "sms"]}]
                }
            }
        },
    )
    assert [level.channels for level in team.org_chart().policy("lead").levels] == [["call"], ["call", "sms"]]


def test_an_org_chart_without_policies_pages_one_person_per_level():
    chart = OrgChart(organization="Example", people=["ada", "bob"], escalation={"lead": ["ada", "bob"]})
    assert [level.people for level in chart.policy("lead").levels] == [["ada"], ["bob"]]
