import re
from datetime import timedelta
from pathlib import Path

import pytest

from domain.catalog import Catalog, CatalogError, Problem, load_catalog
from domain.severity import Severity
from domain.statements import TEMPLATE_NAMES
from tests.unit.conftest import FIXTURES, SHIPPED, edit_yaml, problems_of

PLAYBOOK_IDS = {
    "account_compromise",
    "controversial_post",
    "customer_backlash",
    "misinformation",
    "technical_outage",
    "data_breach",
}
KNOWN_ROLES = (
    "comms_lead, customer_care_lead, data_protection_officer, engineering_on_call, executive_sponsor, "
    "incident_commander, legal, security_lead, social_media_manager"
)


def set_in(*path, value):
    """A mutate function for edit_yaml that sets one nested field."""

    def mutate(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


# ---- the shipped folder ---------------------------------------------------------------------


@pytest.mark.shipped
def test_the_shipped_folder_loads(catalog: Catalog):
    assert set(catalog.playbooks) == PLAYBOOK_IDS
    assert catalog.roster.organization.name == "Northwind Coffee"
    assert catalog.directory == SHIPPED


@pytest.mark.shipped
def test_the_shipped_folder_has_english_and_polish_templates_for_every_playbook(catalog: Catalog):
    internal = {
        (audience.template, language)
        for playbook in catalog.playbooks.values()
        for audience in playbook.internal
        for language in ("en", "pl")
    }
    assert set(catalog.templates) == {(pid, language) for pid in PLAYBOOK_IDS for language in ("en", "pl")} | internal
    assert ("technical_outage_store_staff", "pl") in internal


@pytest.mark.parametrize("playbook_id", sorted(PLAYBOOK_IDS))
def test_catalog_template_returns_the_file_source(catalog: Catalog, playbook_id):
    playbook = catalog.playbooks[playbook_id]
    expected = (SHIPPED / "templates" / f"{playbook.communicate.template}.en.j2").read_text(encoding="utf-8")
    assert catalog.template(playbook, "en") == expected


def test_catalog_template_for_a_language_without_a_template_raises(catalog: Catalog):
    with pytest.raises(KeyError):
        catalog.template(catalog.playbooks["misinformation"], "de")


def test_a_pristine_copy_loads(full_folder: Path):
    assert set(load_catalog(full_folder).playbooks) == PLAYBOOK_IDS


def test_a_yaml_round_trip_of_every_file_still_loads(full_folder: Path):
    # edit_yaml (used to break files below) must not itself break anything.
    for path in full_folder.glob("*.yaml"):
        edit_yaml(path, lambda data: None)
    assert set(load_catalog(full_folder).playbooks) == PLAYBOOK_IDS


def test_yml_files_are_playbooks_too(full_folder: Path):
    (full_folder / "misinformation.yaml").rename(full_folder / "misinformation.yml")
    assert "misinformation" in load_catalog(full_folder).playbooks


# ---- Problem --------------------------------------------------------------------------------


def test_problem_reads_file_path_reason():
    assert str(Problem("a.yaml", "respond.tasks.0.owner", "unknown role 'x'")) == "a.yaml:respond.tasks.0.owner: unknown role 'x'"


def test_problem_without_a_path_reads_file_reason():
    assert str(Problem("team.yaml", "", "missing")) == "team.yaml: missing"


def test_catalog_error_message_is_one_problem_per_line():
    error = CatalogError([Problem("a.yaml", "id", "bad"), Problem("b.yaml", "", "worse")])
    assert str(error) == "a.yaml:id: bad\nb.yaml: worse"


# ---- one broken thing at a time -------------------------------------------------------------


def test_a_path_that_is_not_a_folder(tmp_path: Path):
    assert problems_of(tmp_path / "nowhere") == [f"{tmp_path / 'nowhere'}: is not a folder"]


def test_invalid_yaml_is_reported_with_its_line(folder: Path):
    (folder / "misinformation.yaml").write_text("id: misinformation\nname: Bad: value\n", encoding="utf-8")
    assert problems_of(folder) == [f"{folder}/misinformation.yaml:line 2: not valid YAML: mapping values are not allowed here"]


def test_invalid_yaml_in_team_yaml_is_reported_with_its_line(folder: Path):
    team = folder / "team.yaml"
    lines = team.read_text(encoding="utf-8").splitlines()
    number = lines.index("  name: Northwind Coffee") + 1
    lines[number - 1] = "  name: Northwind: Coffee"
    team.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert problems_of(folder) == [f"{team}:line {number}: not valid YAML: mapping values are not allowed here"]


def test_an_unknown_field_is_reported_at_its_path(folder: Path):
    edit_yaml(folder / "misinformation.yaml", set_in("respond", "tasks", 0, "colour", value="red"))
    assert problems_of(folder) == [f"{folder}/misinformation.yaml:respond.tasks.0.colour: Extra inputs are not permitted"]


def test_an_unknown_top_level_field_is_reported(folder: Path):
    edit_yaml(folder / "misinformation.yaml", set_in("owner", value="marketing"))
    assert problems_of(folder) == [f"{folder}/misinformation.yaml:owner: Extra inputs are not permitted"]


def test_a_missing_required_field_is_reported(folder: Path):
    edit_yaml(folder / "misinformation.yaml", lambda data: data.pop("review"))
    assert problems_of(folder) == [f"{folder}/misinformation.yaml:review: Field required"]


def test_a_bad_task_duration_is_reported_at_its_path(folder: Path):
    edit_yaml(folder / "misinformation.yaml", set_in("respond", "tasks", 0, "due_after", value="5x"))
    assert problems_of(folder) == [
        f"{folder}/misinformation.yaml:respond.tasks.0.due_after: '5x' is not a duration; write it as 90s, 5m, 2h or 3d"
    ]


def test_a_duration_without_unit_is_reported(folder: Path):
    edit_yaml(folder / "misinformation.yaml", set_in("respond", "tasks", 1, "due_after", value=90))
    assert problems_of(folder) == [
        f"{folder}/misinformation.yaml:respond.tasks.1.due_after: write durations with a unit: 90s, 5m, 2h or 3d"
    ]


def test_a_bad_by_severity_duration_is_reported_with_its_level(folder: Path):
    edit_yaml(folder / "misinformation.yaml", set_in("identify", "acknowledge_within", "SEV1", value="0m"))
    assert problems_of(folder) == [
        f"{folder}/misinformation.yaml:identify.acknowledge_within.SEV1: a duration must be longer than zero"
    ]


def test_an_absurdly_long_duration_is_reported_not_raised(folder: Path):
    edit_yaml(folder / "misinformation.yaml", set_in("respond", "tasks", 0, "due_after", value="99999999999d"))
    [problem] = problems_of(folder)
    assert problem.startswith(f"{folder}/misinformation.yaml:respond.tasks.0.due_after: ")


def test_an_unknown_task_owner_role_is_reported_at_its_path(folder: Path):
    edit_yaml(folder / "misinformation.yaml", set_in("respond", "tasks", 2, "owner", value="hacker"))
    assert problems_of(folder) == [
        f"{folder}/misinformation.yaml:respond.tasks.2.owner: unknown role 'hacker' (team.yaml has: {KNOWN_ROLES})"
    ]


def test_an_unknown_approver_role_is_reported_at_its_path(folder: Path):
    edit_yaml(folder / "misinformation.yaml", set_in("communicate", "approvers", 0, value="lawyer"))
    assert problems_of(folder) == [
        f"{folder}/misinformation.yaml:communicate.approvers.0: unknown role 'lawyer' (team.yaml has: {KNOWN_ROLES})",
    ]


def test_an_approver_role_nobody_pages_is_refused(folder: Path):
    edit_yaml(folder / "misinformation.yaml", lambda data: data["identify"]["page"].remove("executive_sponsor"))
    assert problems_of(folder) == [
        f"{folder}/misinformation.yaml:communicate.approvers.1: approver role 'executive_sponsor' is never paged, so nobody in it"
        " hears of the incident before a statement waits on them; add 'executive_sponsor' to identify.page"
    ]


def test_an_unknown_paged_commander_role_is_reported_once_per_place_it_is_named(folder: Path):
    def mutate(data):
        data["identify"]["page"][0] = "boss"
        data["identify"]["commander"] = "boss"

    edit_yaml(folder / "misinformation.yaml", mutate)
    label = f"{folder}/misinformation.yaml"
    assert problems_of(folder) == [
        f"{label}:identify.page.0: unknown role 'boss' (team.yaml has: {KNOWN_ROLES})",
        f"{label}:identify.commander: unknown role 'boss' (team.yaml has: {KNOWN_ROLES})",
    ]


def test_a_commander_who_is_not_paged_is_reported(folder: Path):
    edit_yaml(folder / "misinformation.yaml", set_in("identify", "commander", value="legal_chief"))
    assert problems_of(folder) == [
        f"{folder}/misinformation.yaml: identify.commander: 'legal_chief' must be one of identify.page"
    ]


def test_repeated_task_ids_are_reported(folder: Path):
    edit_yaml(folder / "misinformation.yaml", set_in("respond", "tasks", 1, "id", value="collect_evidence"))
    assert problems_of(folder) == [f"{folder}/misinformation.yaml: respond.tasks: ids must be unique, repeated: collect_evidence"]


def test_an_id_that_does_not_match_the_file_name_is_reported(folder: Path):
    edit_yaml(folder / "misinformation.yaml", set_in("id", value="rumours"))
    assert problems_of(folder) == [f"{folder}/misinformation.yaml:id: 'rumours' must match the file name 'misinformation'"]


def test_two_files_with_the_same_id_are_reported(folder: Path):
    (folder / "misinformation.yml").write_bytes((folder / "misinformation.yaml").read_bytes())
    assert problems_of(folder) == [f"{folder}/misinformation.yml:id: 'misinformation' is used by another playbook"]


def test_a_missing_template_for_a_language_is_reported(folder: Path):
    edit_yaml(folder / "misinformation.yaml", set_in("languages", value=["en", "pl", "de"]))
    assert problems_of(folder) == [
        f"{folder}/misinformation.yaml:communicate.template: templates/misinformation.de.j2 is missing for language 'de'"
    ]


def test_a_deleted_template_is_reported(folder: Path):
    (folder / "templates" / "misinformation.en.j2").unlink()
    assert problems_of(folder) == [
        f"{folder}/misinformation.yaml:communicate.template: templates/misinformation.en.j2 is missing for language 'en'"
    ]


def test_a_template_that_fails_to_render_is_reported_with_the_statement_kind(folder: Path):
    template = folder / "templates" / "misinformation.en.j2"
    source = template.read_text(encoding="utf-8")
    assert "We're still checking the facts." in source  # only in the update branch
    template.write_text(source.replace("We're still checking the facts.", "{{ headline.missing }}"), encoding="utf-8")
    assert problems_of(folder) == [f"{template}:update: UndefinedError: 'str object' has no attribute 'missing'"]


@pytest.mark.parametrize("name", ["title", "summary", "evidence", "facts", "severity"])
def test_a_template_naming_an_internal_field_is_refused_naming_the_file(folder: Path, name: str):
    template = folder / "templates" / "misinformation.pl.j2"
    source = template.read_text(encoding="utf-8")
    template.write_text(
        source.replace('{% if form == "title" %}', f'{{{{ {name} }}}}\n{{% if form == "title" %}}', 1), encoding="utf-8"
    )
    [problem] = problems_of(folder)
    assert problem.startswith(
        f"{template}: names '{name}', an internal field the public never reads; templates see only: changed, faq, form"
    )


def test_a_template_over_a_channel_limit_is_reported_with_the_channel_and_numbers(folder: Path):
    template = folder / "templates" / "misinformation.en.j2"
    source = template.read_text(encoding="utf-8")
    padding = "Our team is working through every report we receive, one by one, and will keep doing so until this is over."
    template.write_text(
        source.replace("We're still checking the facts.", f"We're still checking the facts. {padding} {padding}"),
        encoding="utf-8",
    )
    problems = problems_of(folder)
    over_x = [p for p in problems if p.startswith(f"{template}:update: with an empty fact sheet, x: ")]
    assert len(over_x) == 1 and re.fullmatch(r".*, x: (\d+) weighted characters, over the limit of 280", over_x[0])
    assert int(re.search(r"x: (\d+)", over_x[0]).group(1)) > 280
    assert all(p.startswith(f"{template}:update: with a") for p in problems)


def test_a_playbook_may_write_for_fewer_channels(folder: Path):
    template = folder / "templates" / "misinformation.en.j2"
    source = template.read_text(encoding="utf-8")
    padding = "Our team is working through every report we receive, one by one, and will keep doing so until this is over."
    template.write_text(
        source.replace("We're still checking the facts.", f"We're still checking the facts. {padding} {padding}"),
        encoding="utf-8",
    )
    edit_yaml(
        folder / "misinformation.yaml", set_in("communicate", "channels", value=["mastodon", "linkedin", "status_page", "email"])
    )
    load_catalog(folder)  # no short channel under 500 is written for


def test_a_template_with_a_syntax_error_is_reported_once(folder: Path):
    template = folder / "templates" / "misinformation.en.j2"
    template.write_text("{% if kind == 'holding' %}never closed", encoding="utf-8")
    [problem] = problems_of(folder)
    assert problem.startswith(f"{template}: line 1: Unexpected end of template")


def test_a_template_reaching_for_python_internals_is_a_problem_not_executed(folder: Path):
    template = folder / "templates" / "misinformation.en.j2"
    template.write_text("{{ ''.__class__.__mro__ }}", encoding="utf-8")
    problems = problems_of(folder)
    assert problems == [
        f"{template}:{kind}: SecurityError: access to attribute '__class__' of 'str' object is unsafe."
        for kind in ("holding", "update", "resolution")
    ]


def test_a_template_that_raises_at_render_time_is_reported_not_raised(folder: Path):
    template = folder / "templates" / "misinformation.en.j2"
    template.write_text("{{ headline }} {{ 1 / 0 }}", encoding="utf-8")
    problems = problems_of(folder)
    assert [p.split(": ", 1)[0] for p in problems] == [f"{template}:holding", f"{template}:update", f"{template}:resolution"]


def test_a_template_that_is_not_utf8_is_reported_not_raised(folder: Path):
    template = folder / "templates" / "misinformation.en.j2"
    template.write_bytes("Caf\u00e9 {{ headline }}".encode("latin-1"))
    [problem] = problems_of(folder)
    assert problem.startswith(f"{template}: ")


def test_a_missing_team_yaml_is_reported(full_folder: Path):
    (full_folder / "team.yaml").unlink()
    assert problems_of(full_folder) == [f"{full_folder}/team.yaml: missing: the crisis team roster is required"]


def test_an_empty_team_yaml_is_reported(full_folder: Path):
    (full_folder / "team.yaml").write_text("", encoding="utf-8")
    problems = problems_of(full_folder)
    assert len(problems) == 1
    assert problems[0].startswith(f"{full_folder}/team.yaml")


def test_an_empty_playbook_file_is_reported_not_skipped(folder: Path):
    (folder / "misinformation.yaml").write_text("# to be written\n", encoding="utf-8")
    problems = problems_of(folder)
    assert len(problems) == 1
    assert problems[0].startswith(f"{folder}/misinformation.yaml")


def test_a_playbook_file_that_is_not_a_mapping_is_reported(folder: Path):
    (folder / "misinformation.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    [problem] = problems_of(folder)
    assert problem == f"{folder}/misinformation.yaml: must be a mapping of fields, not a list"


def test_an_empty_folder_reports_the_missing_roster_and_the_missing_playbooks(tmp_path: Path):
    assert problems_of(tmp_path) == [
        f"{tmp_path}/team.yaml: missing: the crisis team roster is required",
        f"{tmp_path}: holds no playbook (*.yaml besides team.yaml)",
    ]


def test_a_folder_with_only_the_roster_reports_no_playbook(tmp_path: Path):
    (tmp_path / "team.yaml").write_bytes((FIXTURES / "team.yaml").read_bytes())
    assert problems_of(tmp_path) == [f"{tmp_path}: holds no playbook (*.yaml besides team.yaml)"]


# ---- roster problems surface through the catalog --------------------------------------------


def test_an_unquoted_phone_number_in_team_yaml_is_reported(folder: Path):
    team = folder / "team.yaml"
    team.write_text(team.read_text(encoding="utf-8").replace('phone: "+447700900118"', "phone: +447700900118"), encoding="utf-8")
    assert problems_of(folder) == [f"{team}:people.1.phone: Input should be a valid string"]


def test_an_escalation_naming_a_person_without_the_role_is_reported(folder: Path):
    edit_yaml(folder / "team.yaml", set_in("roles", "legal", "escalation", 1, value="tom.hughes"))
    assert problems_of(folder) == [f"{folder}/team.yaml:roles.legal.escalation.1: 'tom.hughes' does not have the role 'legal'"]


def test_a_channel_a_level_cannot_use_is_reported_with_the_ones_it_can(folder: Path):
    edit_yaml(folder / "team.yaml", set_in("roles", "incident_commander", "escalation", "levels", 0, "channels", value=["phone"]))
    assert (
        f"{folder}/team.yaml:roles.incident_commander.escalation.EscalationPolicy.levels.0.channels.0: "
        "Input should be 'sms', 'email' or 'call'" in problems_of(folder)
    )


def test_a_level_that_calls_is_valid(folder: Path):
    edit_yaml(
        folder / "team.yaml", set_in("roles", "incident_commander", "escalation", "levels", 2, "channels", value=["call", "sms"])
    )
    levels = load_catalog(folder).roster.org_chart().policy("incident_commander").levels
    assert levels[2].channels == ["call", "sms"]


# ---- every problem at once ------------------------------------------------------------------


def test_two_broken_playbooks_give_two_lines(full_folder: Path):
    edit_yaml(full_folder / "misinformation.yaml", set_in("respond", "tasks", 0, "due_after", value="5x"))
    edit_yaml(full_folder / "customer_backlash.yaml", set_in("communicate", "approvers", 0, value="lawyer"))
    with pytest.raises(CatalogError) as info:
        load_catalog(full_folder)
    assert str(info.value).splitlines() == [
        f"{full_folder}/customer_backlash.yaml:communicate.approvers.0: unknown role 'lawyer' (team.yaml has: {KNOWN_ROLES})",
        f"{full_folder}/misinformation.yaml:respond.tasks.0.due_after: '5x' is not a duration; write it as 90s, 5m, 2h or 3d",
    ]


def test_two_broken_things_in_one_playbook_give_two_lines(folder: Path):
    def mutate(data):
        data["respond"]["tasks"][0]["due_after"] = "5x"
        data["communicate"]["first_statement_within"]["SEV3"] = "soon"

    edit_yaml(folder / "misinformation.yaml", mutate)
    assert problems_of(folder) == [
        f"{folder}/misinformation.yaml:respond.tasks.0.due_after: '5x' is not a duration; write it as 90s, 5m, 2h or 3d",
        (
            f"{folder}/misinformation.yaml:communicate.first_statement_within.SEV3: 'soon' is not a duration; write it as 90s,"
            " 5m, 2h or 3d"
        ),
    ]


def test_roster_playbook_and_template_problems_are_reported_together(full_folder: Path):
    edit_yaml(full_folder / "team.yaml", set_in("people", 0, "email", value="not-an-email"))
    edit_yaml(full_folder / "technical_outage.yaml", set_in("id", value="outage"))
    template = full_folder / "templates" / "customer_backlash.en.j2"
    template.write_text("{{ customer }}", encoding="utf-8")
    problems = problems_of(full_folder)
    assert f"{full_folder}/team.yaml:people.0.email: 'not-an-email' is not an email address" in problems
    assert f"{full_folder}/technical_outage.yaml:id: 'outage' must match the file name 'technical_outage'" in problems
    assert (
        f"{template}: names 'customer', which templates do not have; they see only: {', '.join(sorted(TEMPLATE_NAMES))}"
        in problems
    )
    assert len(problems) == 3


def test_schema_problems_hide_that_files_cross_reference_problems(folder: Path):
    # Documented: cross-references are checked once a file passes the schema.
    def mutate(data):
        data["respond"]["tasks"][0]["due_after"] = "5x"
        data["respond"]["tasks"][1]["owner"] = "hacker"

    edit_yaml(folder / "misinformation.yaml", mutate)
    assert problems_of(folder) == [
        f"{folder}/misinformation.yaml:respond.tasks.0.due_after: '5x' is not a duration; write it as 90s, 5m, 2h or 3d"
    ]


def test_a_playbook_whose_windows_cannot_meet_the_first_statement_is_refused_with_the_numbers(folder: Path):
    def slow(data):
        data["assess"]["due_within"]["SEV2"] = "45m"

    edit_yaml(folder / "misinformation.yaml", slow)
    assert problems_of(folder) == [
        f"{folder}/misinformation.yaml:communicate.first_statement_within.SEV2: 1 h, but the windows before the first statement"
        " add up to 1 h 25 min: acknowledge 10 min + assessment 45 min + tasks before the statement (collect_evidence) 10 min +"
        " approval 20 min"
    ]


def test_a_playbook_without_an_approval_window_is_refused(folder: Path):
    edit_yaml(folder / "misinformation.yaml", lambda data: data["communicate"].pop("approval_within"))
    assert problems_of(folder) == [
        f"{folder}/misinformation.yaml:communicate.approval_within: missing: how long approvers get for the first statement, by"
        " severity (the holding statement goes to approval that long before first_statement_within)"
    ]


@pytest.mark.shipped
def test_every_shipped_playbook_can_meet_its_first_statement_at_every_severity(catalog: Catalog):
    for playbook in catalog.playbooks.values():
        assert playbook.plan_problems() == [], playbook.id
        for severity in Severity:
            assert sum(
                (window for _, window in playbook.chain(severity)), timedelta()
            ) <= playbook.communicate.first_statement_within.at(severity)
            assert timedelta(0) < playbook.holding_point(severity) < playbook.communicate.first_statement_within.at(severity)


# ---- control characters (issue 16 #8) ---------------------------------------------------------


def test_a_playbook_task_title_with_a_line_break_names_the_file_and_path(folder: Path):
    edit_yaml(folder / "misinformation.yaml", lambda data: data["respond"]["tasks"][0].update(title="Collect facts\nBcc: all"))
    problems = problems_of(folder)
    assert any(
        "misinformation.yaml" in problem and "respond.tasks.0.title" in problem and "single line" in problem
        for problem in problems
    ), problems


def test_a_roster_name_with_a_nul_names_the_file_and_path(folder: Path):
    edit_yaml(folder / "team.yaml", lambda data: data["people"][0].update(name="Ewa\x00"))
    problems = problems_of(folder)
    assert any(
        "team.yaml" in problem and "people.0.name" in problem and "control characters" in problem for problem in problems
    ), problems
