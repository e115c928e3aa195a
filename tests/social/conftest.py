"""Fixtures of the publishing tests: the Statuspage fake, a real Bluesky PDS, a ledger database."""

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from channels.x import XChannel
from tests.channels.conftest import PROJECT, roster_dir, sessions  # noqa: F401  (fixtures: the roster, the ledger database)
from tests.channels.test_contract import SPECS, start_prism, wait_ready
from tests.fakes.providers import free_port
from tests.fakes.statuspage import FakeStatuspage

STATUSPAGE_KEY = "sp-key-" + "b" * 24
PAGE_ID = "kctbh9vrtdwd"
COMPONENTS = ["8kbf7d35c070", "vtnh60py4yd7"]
NODE_MODULES = PROJECT / "tests" / ".node" / "node_modules"
NETWORK_SCRIPT = PROJECT / "tests" / "social" / "bsky-network.cjs"


@pytest.fixture(scope="session")
def statuspage_server():
    with FakeStatuspage(STATUSPAGE_KEY, PAGE_ID, COMPONENTS) as fake:
        yield fake


@pytest.fixture
def statuspage(statuspage_server):
    statuspage_server.reset()
    yield statuspage_server
    statuspage_server.reset()


TOKEN = "t0k3n-" + "a" * 40


@pytest.fixture(scope="session")
def social_mocks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("prism-social")
    # Without --errors: X's and Mastodon's descriptions have answers Prism cannot make valid (their
    # examples are partial), and those are Prism's answers, not our requests; every request is still
    # checked and an invalid one refused.
    mocks = {
        "x": start_prism(SPECS / "x_api_v2.json", folder / "x.log", errors=False),
        "mastodon": start_prism(SPECS / "mastodon_api.json", folder / "mastodon.log", errors=False),
    }
    try:
        for mock in mocks.values():
            wait_ready(mock)
        yield mocks
    finally:
        for mock in mocks.values():
            mock.process.terminate()
            try:
                mock.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                mock.process.kill()


def without_invented_errors(response, *_args, **_kwargs):
    """Prism makes up a 2xx answer from the schema, every optional field filled with "string",
    ``errors`` included (which X sends only with a partial result), and the SDK's strict models
    refuse those made-up problems. The request was validated before this answer was made: drop them."""
    if response.ok and response.headers.get("content-type", "").startswith("application/json"):
        document = json.loads(response.content)
        if isinstance(document, dict) and document.pop("errors", None) is not None:
            response._content = json.dumps(document).encode()
    return response


def x_channel(mock, token: str = TOKEN) -> XChannel:
    channel = XChannel(token, api_url=mock.url, timeout=30)
    channel._client.session.hooks["response"].append(without_invented_errors)
    return channel


@dataclass
class LocalPDS:
    url: str
    appview_url: str
    log: Path
    process: subprocess.Popen

    def said(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def pds_installed() -> None:
    if not all((NODE_MODULES / package).exists() for package in ("@atproto/pds", "@did-plc/server", "@atproto/dev-env")):
        done = subprocess.run(["make", "-s", "pds"], cwd=PROJECT, capture_output=True, text=True, timeout=1800)
        if not (NODE_MODULES / "@atproto" / "dev-env").exists():
            pytest.fail(f"the Bluesky PDS and AppView could not be installed (`make pds`):\n{done.stdout}\n{done.stderr}")


def start_bluesky_network(folder: Path, postgres_url: str) -> LocalPDS:
    """A PLC directory, a real PDS and the Bluesky AppView indexing it into ``postgres_url``
    (``tests/social/bsky-network.cjs``), on loopback; the caller stops it."""
    pds_installed()
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = folder / "bsky-network.log"
    environment = {**os.environ, "NODE_PATH": str(NODE_MODULES), "LOG_ENABLED": "false"}
    url = postgres_url.replace("postgresql+asyncpg://", "postgresql://")
    with open(log, "wb") as output:
        process = subprocess.Popen(
            ["node", str(NETWORK_SCRIPT), str(port), url, "bsky"],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=environment,
            cwd=folder,
        )
    said = ""
    deadline = time.monotonic() + 240
    while "PDS_URL=" not in (said := log.read_text(errors="replace")):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the Bluesky network did not start:\n{said[-4000:]}")
        time.sleep(0.2)
    appview = said.split("APPVIEW_URL=", 1)[1].split()[0]
    server = LocalPDS(f"http://localhost:{port}", appview, log, process)
    try:
        httpx.get(f"{server.url}/xrpc/_health", timeout=10).raise_for_status()
    except Exception:
        server.stop()
        raise
    return server


@pytest.fixture(scope="session")
def pds(tmp_path_factory, postgres) -> LocalPDS:
    """A real PDS (``@atproto/pds``) with its PLC directory and the Bluesky AppView that answers
    threads and quotes (``@atproto/dev-env``), on loopback and the session's PostgreSQL."""
    import asyncio

    database = asyncio.run(postgres.create_database("bsky"))
    server = start_bluesky_network(tmp_path_factory.mktemp("bsky"), database)
    yield server
    server.stop()


async def bluesky_account(pds: LocalPDS, handle: str) -> tuple[str, str]:
    """A new account on the PDS and an app password of it: (did, app password)."""
    from atproto import AsyncClient

    client = AsyncClient(pds.url)
    account = await client.com.atproto.server.create_account(
        {"handle": handle, "email": f"{handle.split('.')[0]}@northwind.example", "password": "account-password-1"}
    )
    await client.login(handle, "account-password-1", fetch_bsky_profile=False)
    app_password = await client.com.atproto.server.create_app_password({"name": "crisisflow"})
    return account.did, app_password.password
