"""The suite's habits: every test has a deadline, and the slow suites can be left out by marker."""

import os
import subprocess
import sys
import tomllib

import pytest

from tests.conftest import PROJECT
from tests.critical_path import YIELD_TO_THE_LONG_TEST


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


PROBE = """import os

import pytest


def say(name):
    with open(os.path.join(os.environ["NICENESS_SEEN"], f"{name}.nice"), "w") as seen:
        seen.write(str(os.nice(0)))


@pytest.mark.long
def test_long():
    say("long")


@pytest.mark.parametrize("n", range(6))
def test_other(n):
    say(f"other-{n}")
"""


@pytest.mark.parametrize(
    ("args", "long_first"),
    [(("-n", "2"), True), (("-n", "2", "-m", "not long"), False), ((), False)],
    ids=["parallel", "parallel without the long test", "one process"],
)
def test_other_processes_give_the_long_test_the_cpu_first_in_a_parallel_run(tmp_path, args, long_first):
    base = os.nice(0)
    (tmp_path / "conftest.py").write_text(
        "from tests.critical_path import pytest_collection_finish, pytest_runtest_setup, pytest_runtest_teardown  # noqa\n"
    )
    (tmp_path / "test_probe.py").write_text(PROBE)
    (tmp_path / "seen").mkdir()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-o",
            "markers=long",
            "--rootdir",
            str(tmp_path),
            "-p",
            "xdist",
            *args,
            str(tmp_path / "test_probe.py"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "PYTHONPATH": str(PROJECT),
            "NICENESS_SEEN": str(tmp_path / "seen"),
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    seen = {path.stem: int(path.read_text()) for path in (tmp_path / "seen").glob("*.nice")}
    others = {value for name, value in seen.items() if name.startswith("other-")}
    assert len(others) and len([name for name in seen if name.startswith("other-")]) == 6, seen
    if long_first:
        assert seen["long"] == base and others == {min(base + YIELD_TO_THE_LONG_TEST, 19)}, seen
    else:
        assert others == {base} and seen.get("long", base) == base, seen
