"""The CLI as a comms lead uses it: in the checkout next to `make dev`, with nothing exported.
`crisis dev` keeps its admin key and its API's address in ./var; `crisis ls` and `crisis declare`
run in the same folder find both, print the incident pages' full URLs, and say a refusal in words."""

import os
import subprocess

import pytest

from tests.e2e.stack import BIN, PROJECT, DevStack, until


def without_crisis_settings() -> dict[str, str]:
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("CRISIS_", "DATABASE_URL", "TWILIO_", "SENDGRID_", "SLACK_"))
    } | {"COLUMNS": "250"}


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """A folder where `crisis dev` runs with its data in ./var and without CRISIS_API_KEY, as `make dev` does."""
    folder = tmp_path_factory.mktemp("checkout")
    stack = DevStack(folder / "var", {"CRISIS_PLAYBOOKS_DIR": str(PROJECT / "playbooks")}, api_key=None, cwd=folder)
    stack.start()
    until(lambda: (folder / "var" / "dev-api-url").exists(), seconds=30, what="the dev stack's address written to ./var")
    yield folder, stack
    stack.stop()


def crisis(folder, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "crisis"), *args], cwd=folder, env=without_crisis_settings(), capture_output=True, text=True, timeout=120
    )


def test_ls_and_declare_find_the_dev_stack_from_its_folder_with_nothing_exported(checkout):
    folder, stack = checkout
    assert (folder / "var" / "dev-api-url").read_text().strip() == stack.url

    declared = crisis(
        folder,
        "declare",
        "controversial_post",
        "--title",
        "Tone-deaf holiday post",
        "--summary",
        "A scheduled post offended many.",
        "--severity",
        "SEV3",
    )

    assert declared.returncode == 0, declared.stderr
    first_line = declared.stdout.splitlines()[0]
    assert first_line.startswith("declared incident ") and "SEV3 controversial_post" in first_line
    incident_id = first_line.split()[2].rstrip(":")
    page = f"{stack.url}/incidents/{incident_id}/view"
    assert page in declared.stdout
    with stack.client() as http:
        assert http.get(page).status_code == 200
    listed = until(
        lambda: (result := crisis(folder, "ls")).returncode == 0 and incident_id in result.stdout and result,
        seconds=120,
        what="the incident listed",
    )
    assert page in listed.stdout and "Tone-deaf holiday post" in listed.stdout


def test_a_refusal_is_said_in_words_naming_the_option(checkout):
    folder, _ = checkout

    refused = crisis(folder, "declare", "controversial_post", "--title", "x", "--summary", "y", "--severity", "SEV9")

    assert refused.returncode == 1 and refused.stdout == ""
    assert "the API refused the input (422)" in refused.stderr and "--severity: " in refused.stderr
    assert "{" not in refused.stderr and '"detail"' not in refused.stderr and "Traceback" not in refused.stderr
    unknown = crisis(folder, "declare", "alien_invasion", "--title", "x", "--summary", "y")
    assert unknown.returncode == 1 and "alien_invasion" in unknown.stderr and "{" not in unknown.stderr


def test_without_a_dev_stack_in_the_folder_the_cli_says_where_the_key_comes_from(tmp_path):
    refused = crisis(tmp_path, "ls")

    assert refused.returncode == 1
    assert "CRISIS_API_KEY" in refused.stderr and "crisis dev" in refused.stderr and "Traceback" not in refused.stderr
