"""``python -m bench --quick`` runs end to end and reports every benchmark (its speed is not judged)."""

import subprocess
import sys

import pytest

from bench.report import ROW_TITLES
from tests.conftest import PROJECT

pytestmark = pytest.mark.e2e


def test_quick_bench_reports_every_benchmark(tmp_path):
    output = tmp_path / "bench.md"
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--output", str(output)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    document = output.read_text(encoding="utf-8")
    for title in ROW_TITLES.values():
        assert title in run.stdout, f"no '{title}' row in the printed table:\n{run.stdout}"
        assert title in document, f"no '{title}' row in {output}"
    for section in ("## Machine and versions", "## Results", "## How to run", "temporalio", "Temporal CLI"):
        assert section in document
    assert "not judged (quick run)" in document
    assert "mentions/s" in document and "s of stream" in document  # listening: ingestion rate and spike detection
