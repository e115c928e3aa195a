"""The README's curl walkthrough, run verbatim against the real stack, so the README stays true."""

import os
import re
import subprocess

import pytest

from tests.conftest import PROJECT

pytestmark = pytest.mark.e2e


def walkthrough() -> str:
    readme = (PROJECT / "README.md").read_text()
    section = readme.split("## One incident, from declaration to closed", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def test_readme_walkthrough_closes_the_incident(stack, tmp_path):
    script = walkthrough().replace("API=http://localhost:8000", f"API={stack.url}", 1)
    assert script != walkthrough(), "the walkthrough must start by setting API"
    assert "KEY=${CRISIS_API_KEY:-$(cat var/dev-api-key)}" in script and 'curl -s -H "Authorization: Bearer $KEY"' in script
    env = {"PATH": os.environ["PATH"], "CRISIS_API_KEY": stack.key}  # as in a shell where CRISIS_API_KEY was exported
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=180, cwd=tmp_path, env=env
    )
    assert result.returncode == 0, result.stderr + result.stdout
    output = result.stdout
    assert '"severity": "SEV2"' in output
    assert "Online ordering is down —" not in output  # the internal title reaches no public channel
    assert "public None | Investigating: Online ordering is not working" in output  # the status page's title
    assert "x " in output and "/280 | Online ordering is not working." in output
    assert '"phase": "closed"' in output and '"status": "closed"' in output
    assert "Post-incident review submitted by ewa.lewandowska with 1 action items" in output
    assert "Feedback from jakub.mazur: 4/5" in output
    assert "# Post-incident report: Online ordering is down" in output and "| time to first statement |" in output


def test_without_crisis_api_key_the_walkthrough_reads_the_key_make_dev_kept(stack, tmp_path):
    """The other way the README gives: no CRISIS_API_KEY, the key from ./var/dev-api-key."""
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "dev-api-key").write_text(stack.key + "\n")
    first_lines = walkthrough().split("\n# 1.", 1)[0].replace("API=http://localhost:8000", f"API={stack.url}", 1)
    script = first_lines + '\ncurl -s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $KEY" $API/incidents'
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"]},
    )
    assert result.returncode == 0 and result.stdout == "200", result.stderr + result.stdout
