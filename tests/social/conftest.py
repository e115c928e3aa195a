"""Fixtures of the publishing tests: the Statuspage fake, a real Bluesky PDS, a ledger database."""

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.channels.conftest import PROJECT, sessions  # noqa: F401  (the ledger database fixture)
from tests.fakes.providers import free_port
from tests.fakes.statuspage import FakeStatuspage

STATUSPAGE_KEY = "sp-key-" + "b" * 24
PAGE_ID = "kctbh9vrtdwd"
COMPONENTS = ["8kbf7d35c070", "vtnh60py4yd7"]
NODE_MODULES = PROJECT / "tests" / ".node" / "node_modules"
PDS_SCRIPT = PROJECT / "tests" / "social" / "pds.cjs"


@pytest.fixture(scope="session")
def statuspage_server():
    with FakeStatuspage(STATUSPAGE_KEY, PAGE_ID, COMPONENTS) as fake:
        yield fake


@pytest.fixture
def statuspage(statuspage_server):
    statuspage_server.reset()
    yield statuspage_server
    statuspage_server.reset()


@dataclass
class LocalPDS:
    url: str
    log: Path
    process: subprocess.Popen

    def said(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def pds_installed() -> None:
    if not (NODE_MODULES / "@atproto" / "pds").exists() or not (NODE_MODULES / "@did-plc" / "server").exists():
        done = subprocess.run(["make", "-s", "pds"], cwd=PROJECT, capture_output=True, text=True, timeout=1800)
        if not (NODE_MODULES / "@atproto" / "pds").exists():
            pytest.fail(f"the Bluesky PDS could not be installed (`make pds`):\n{done.stdout}\n{done.stderr}")


@pytest.fixture(scope="session")
def pds(tmp_path_factory) -> LocalPDS:
    """A real PDS (``@atproto/pds``) with its PLC directory (``@did-plc/server``) on loopback."""
    pds_installed()
    folder = tmp_path_factory.mktemp("pds")
    port, plc_port = free_port(), free_port()
    log = folder / "pds.log"
    environment = {**os.environ, "NODE_PATH": str(NODE_MODULES), "LOG_ENABLED": "false"}
    with open(log, "wb") as output:
        process = subprocess.Popen(["node", str(PDS_SCRIPT), str(port), str(plc_port), str(folder / "data")], stdout=output,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=environment)
    server = LocalPDS(f"http://localhost:{port}", log, process)
    try:
        deadline = time.monotonic() + 180
        while "PDS_URL=" not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the PDS did not start:\n{server.said()}")
            time.sleep(0.2)
        httpx.get(f"{server.url}/xrpc/_health", timeout=10).raise_for_status()
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


async def bluesky_account(pds: LocalPDS, handle: str) -> tuple[str, str]:
    """A new account on the PDS and an app password of it: (did, app password)."""
    from atproto import AsyncClient

    client = AsyncClient(pds.url)
    account = await client.com.atproto.server.create_account(
        {"handle": handle, "email": f"{handle.split('.')[0]}@northwind.example", "password": "account-password-1"})
    await client.login(handle, "account-password-1", fetch_bsky_profile=False)
    app_password = await client.com.atproto.server.create_app_password({"name": "crisisflow"})
    return account.did, app_password.password
