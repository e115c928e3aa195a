"""The README's curl walkthrough, run verbatim against the real stack, so the README stays true."""

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
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert result.returncode == 0, result.stderr + result.stdout
    output = result.stdout
    assert '"severity": "SEV2"' in output
    assert "public crisisflow | Online ordering is down" not in output
    assert "public None | Online ordering is down — statement v1" in output
    assert '"phase": "closed"' in output and '"status": "closed"' in output
    assert "Post-incident review submitted by ewa.lewandowska with 1 action items" in output
    assert "Feedback from jakub.mazur: 4/5" in output
    assert "# Post-incident report: Online ordering is down" in output and "| time to first statement |" in output
