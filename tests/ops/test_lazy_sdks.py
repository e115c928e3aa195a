"""A worker imports a social network's SDK only when that network is set up (``channels.registry``):
X's and Bluesky's SDKs are 1.7 s of CPU to import, which every worker and API process paid at start
whether or not it publishes there. Each check runs in a fresh interpreter, as a process starts."""

import subprocess
import sys

from tests.conftest import PROJECT

BUILD_TARGETS = """
import sys
from pathlib import Path
from settings import Settings
from store.db import create_engine, session_factory
from channels.registry import publishing_targets
folder, chosen = sys.argv[1], dict(a.split("=", 1) for a in sys.argv[2:])
settings = Settings(_env_file=None, CRISIS_DATA_DIR=folder, DATABASE_URL=f"sqlite+aiosqlite:///{folder}/crisis.db", **chosen)
targets = publishing_targets(settings, session_factory(create_engine(settings.database_url)))
print(sorted(targets), "xdk" in sys.modules, "atproto" in sys.modules)
"""


def targets_and_sdks(tmp_path, *settings: str) -> str:
    run = subprocess.run(
        [sys.executable, "-c", BUILD_TARGETS, str(tmp_path), *settings],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def test_a_worker_without_social_networks_imports_no_social_sdk(tmp_path):
    assert targets_and_sdks(tmp_path) == "['customer_email', 'outbox'] False False"


def test_a_network_that_is_set_up_brings_its_sdk(tmp_path):
    answer = targets_and_sdks(tmp_path, "X_ACCESS_TOKEN=token")
    assert answer == "['customer_email', 'outbox', 'x'] True False"
