"""`crisis --help` and its commands' help list every form and every choice a user may type."""

from typer.testing import CliRunner

from cli import app
from store.apikeys import SCOPES

runner = CliRunner()


def help_of(*command: str) -> str:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    return result.output


def test_apikey_create_names_every_scope_with_what_it_allows():
    text = help_of("apikey", "create")
    for scope in SCOPES:
        assert f"{scope} (" in text, scope


def test_drill_help_shows_both_forms():
    text = help_of("drill")
    assert "crisis drill PLAYBOOK" in text
    for form in ("run", "schedule", "schedules", "unschedule"):
        assert form in text


def test_the_api_commands_say_where_their_url_comes_from():
    for command in (("ls",), ("declare",)):
        assert "the `crisis dev` of this folder" in help_of(*command)
