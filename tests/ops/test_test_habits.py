"""The suite's habits: every test has a deadline, and the slow suites can be left out by marker."""

import subprocess
import sys
import tomllib

from tests.conftest import PROJECT


def pytest_run(*args: str, cwd=PROJECT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_every_test_has_a_deadline_and_a_stalled_one_fails(tmp_path):
    settings = tomllib.loads((PROJECT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert settings["timeout"] >= 600  # the slowest end-to-end test, set-up included, on a loaded 2-core machine
    (tmp_path / "test_stall.py").write_text("import time\n\ndef test_stall():\n    time.sleep(60)\n")
    result = pytest_run(
        "-c",
        str(PROJECT / "pyproject.toml"),
        "--rootdir",
        str(tmp_path),
        "-o",
        "timeout=2",
        str(tmp_path / "test_stall.py"),
        cwd=tmp_path,
    )
    assert result.returncode != 0 and "Timeout" in result.stdout + result.stderr, result.stdout + result.stderr


def test_not_slow_leaves_out_the_end_to_end_browser_resilience_contract_and_postgresql_suites():
    slow = ["tests/e2e", "tests/resilience", "tests/channels/test_contract.py", "tests/channels/test_slack_contract.py"]
    result = pytest_run("--collect-only", "-q", "-m", "not slow", *slow)
    assert result.returncode == 5 and "deselected" in result.stdout, result.stdout + result.stderr  # 5: nothing left to run
    store = pytest_run("--collect-only", "-q", "-m", "postgres", "tests/store")
    ids = [line for line in store.stdout.splitlines() if "::" in line]
    assert any("[postgresql]" in line for line in ids) and not any("[sqlite]" in line for line in ids), store.stdout
