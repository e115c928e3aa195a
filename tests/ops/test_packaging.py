"""`pip install .` builds a wheel with setuptools: it has to build without a packaging warning and
carry the pages' templates and static files (the API serves them from the installed package)."""

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent.parent


def build_wheel(source: Path, out: Path) -> subprocess.CompletedProcess:
    """setuptools' own PEP 517 hook, as pip calls it, on a copy of what the wheel is made of."""
    return subprocess.run(
        [sys.executable, "-c", f"from setuptools import build_meta; print(build_meta.build_wheel({str(out)!r}))"],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_wheel_builds_without_packaging_warnings_and_carries_the_pages(tmp_path):
    config = tomllib.loads((PROJECT / "pyproject.toml").read_text())["tool"]["setuptools"]
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", *(f"{module}.py" for module in config["py-modules"])):
        shutil.copy(PROJECT / name, source / name)
    for top in {package.split(".")[0] for package in config["packages"]}:
        shutil.copytree(PROJECT / top, source / top, ignore=shutil.ignore_patterns("__pycache__"))

    built = build_wheel(source, tmp_path / "dist")

    assert built.returncode == 0, built.stderr
    output = built.stdout + built.stderr
    assert "Warning" not in output and "absent from the `packages`" not in output, output
    wheel = tmp_path / "dist" / built.stdout.strip().splitlines()[-1]
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in [*PROJECT.glob("api/templates/*.html"), *PROJECT.glob("api/static/*")]:
        assert str(shipped.relative_to(PROJECT)) in names, shipped
    assert "cli/__init__.py" in names and "cli/common.py" in names
