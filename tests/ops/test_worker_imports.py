"""An idle worker's memory is mostly what it imports (issue 22 #1, bench/findings.md): a worker builds
its channels and chats from the settings and imports a provider's SDK only once that provider is
configured, and never the API's web framework. Checked in a fresh interpreter, as ``crisis worker``
starts: its command module, worker.py, and the channels an outbox-only worker builds."""

import json
import subprocess
import sys

from tests.conftest import PROJECT

PROBE = """
import json, sys
import cli.services, worker
from channels.registry import build_channels, build_chats
from settings import Settings

settings = Settings(_env_file=None, **dict(arg.split("=", 1) for arg in sys.argv[1:]))
build_channels(settings, sessions=None)
build_chats(settings)
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""
OPTIONAL = {"fastapi", "starlette", "uvicorn", "twilio", "requests", "sendgrid", "python_http_client", "slack_sdk", "aiohttp"}
# Settings the probe passes as Settings(...) keyword arguments (their aliases); the probe runs without
# the caller's environment and .env file.
NONE_SET = ["CRISIS_DATA_DIR=/nonexistent"]
ALL_SET = NONE_SET + [
    "TWILIO_ACCOUNT_SID=AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN=" + "f" * 32,
    "TWILIO_FROM_NUMBER=+15005550006",
    "SENDGRID_API_KEY=SG.key",
    "SENDGRID_FROM_EMAIL=crisis@example.org",
    "SLACK_BOT_TOKEN=xoxb-1",
    "SLACK_SIGNING_SECRET=secret",
]


def imported(settings: list[str]) -> set[str]:
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, *settings],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert probe.returncode == 0, probe.stderr
    return set(json.loads(probe.stdout.splitlines()[-1]))


def test_an_outbox_only_worker_imports_no_provider_sdk_and_no_web_framework():
    assert imported(NONE_SET) & OPTIONAL == set()


def test_a_configured_provider_brings_its_sdk_but_not_the_web_framework():
    modules = imported(ALL_SET)
    assert {"twilio", "sendgrid", "slack_sdk", "aiohttp"} <= modules
    assert {"fastapi", "starlette", "uvicorn"} & modules == set()
