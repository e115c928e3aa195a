"""The image's bytecode (Docker does not run here, so the mechanism is checked without it).

The Dockerfile compiles the installed project with ``python -m compileall``; the image then runs
with PYTHONDONTWRITEBYTECODE=1 on a tree its user cannot write. These tests lay the project out as
the build stage installs it (pip's own timestamp-checked bytecode first), run the Dockerfile's
compileall line on it, give every source a new modification time (as a copy between layers may),
make the tree read-only, and then watch, through Python's audit hooks, what Temporal's workflow
sandbox compiles when it creates an incident's workflow (as it does for every run and replay).
"""

import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import PROJECT

DOCKERFILE = PROJECT / "Dockerfile"
# Run in a child process: reports every Python source the sandbox compiles while it creates the workflow.
PROBE = """
import asyncio, sys
compiled = []
sys.addaudithook(lambda event, args: compiled.append(args[1]) if event == "compile" and str(args[1]).endswith(".py") else None)
import workflows.incident
from temporalio import workflow
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

assert workflows.incident.__file__.startswith(sys.argv[1]), workflows.incident.__file__
definition = workflow._Definition.from_class(workflows.incident.IncidentWorkflow)
before = len(compiled)

async def create():
    SandboxedWorkflowRunner().prepare_workflow(definition)  # creates a sandboxed instance, as each run does

asyncio.run(create())
print("\\n".join(path for path in compiled[before:] if path.startswith(sys.argv[1])))
"""


def dockerfile_compileall() -> list[str]:
    """The arguments of the Dockerfile's ``python -m compileall`` (its RUN instruction, continuation lines joined)."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    found = re.search(r"^RUN .*-m compileall (.+)$", text, re.MULTILINE)
    assert found, "the Dockerfile has no `python -m compileall` step"
    return shlex.split(found.group(1))


def installed_layout(site: Path) -> None:
    """The project's packages and modules as ``pip install .`` puts them in site-packages."""
    config = tomllib.loads((PROJECT / "pyproject.toml").read_text())["tool"]["setuptools"]
    site.mkdir()
    for top in {package.split(".")[0] for package in config["packages"]}:
        shutil.copytree(PROJECT / top, site / top, ignore=shutil.ignore_patterns("__pycache__"))
    for module in config["py-modules"]:
        shutil.copy2(PROJECT / f"{module}.py", site / f"{module}.py")


def compile_(site: Path, *args: str) -> None:
    run = subprocess.run([sys.executable, "-m", "compileall", *args], cwd=site, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


def new_times_read_only(site: Path) -> None:
    later = os.stat(site).st_mtime + 3600
    for path in sorted(site.rglob("*"), reverse=True):
        if path.suffix == ".py":
            os.utime(path, (later, later))
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    site.chmod(site.stat().st_mode & ~stat.S_IWUSR)


def compiled_in_sandbox(site: Path) -> list[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(site)}
    run = subprocess.run([sys.executable, "-c", PROBE, str(site)], cwd=site, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout.split()


@pytest.fixture
def site(tmp_path):
    site = tmp_path / "site-packages"
    installed_layout(site)
    compile_(site, "-q", ".")  # what pip does when it installs: bytecode checked by the sources' times
    yield site
    for path in [site, *site.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


def test_the_dockerfile_compiles_every_package_and_module_of_the_project():
    config = tomllib.loads((PROJECT / "pyproject.toml").read_text())["tool"]["setuptools"]
    targets = {argument for argument in dockerfile_compileall() if not argument.startswith("-")}
    tops = {package.split(".")[0] for package in config["packages"]} | {f"{module}.py" for module in config["py-modules"]}
    assert tops <= targets, f"not compiled in the image: {sorted(tops - targets)}"


def test_the_sandbox_uses_the_images_bytecode_on_a_read_only_tree(site):
    compile_(site, *dockerfile_compileall())
    new_times_read_only(site)

    assert compiled_in_sandbox(site) == []


def test_without_it_the_sandbox_compiles_the_workflow_for_every_run(site):
    """The control: pip's bytecode alone no longer matches sources whose times changed, so the
    sandbox compiles workflows/incident.py again (and the probe above does see compiles)."""
    new_times_read_only(site)

    assert str(site / "workflows" / "incident.py") in compiled_in_sandbox(site)
