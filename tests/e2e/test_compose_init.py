"""docker-compose.yml's temporal-init step, run for real: its script against a fresh Temporal dev
server (the same `temporal` CLI as in the admin-tools image) creates the namespace and every
search attribute crisisflow uses, and running it again changes nothing."""

import os
import subprocess
import time

import pytest
import yaml
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client

from tests.conftest import PROJECT
from tests.e2e.stack import BIN, free_port
from workflows.search_attributes import ALL

pytestmark = pytest.mark.e2e


@pytest.fixture
def bare_temporal(tmp_path):
    """A dev server with no custom search attributes and no crisis namespace."""
    port, ui_port = free_port(), free_port()
    log = open(tmp_path / "temporal.log", "wb")
    server = subprocess.Popen(
        [
            str(BIN / "temporal"),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(port),
            "--ui-port",
            str(ui_port),
            "--headless",
            "--log-level",
            "error",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield f"127.0.0.1:{port}"
    server.kill()  # in memory and thrown away: no need for a graceful stop
    server.wait(timeout=30)


def run_init(address: str) -> subprocess.CompletedProcess:
    service = yaml.safe_load((PROJECT / "docker-compose.yml").read_text())["services"]["temporal-init"]
    script = service["command"][0].replace("$$", "$")  # compose's escape for a literal $
    env = {
        **os.environ,
        **service["environment"],
        "TEMPORAL_ADDRESS": address,
        "TEMPORAL_NAMESPACE": "crisis",
        "PATH": f"{BIN}:{os.environ['PATH']}",
    }
    return subprocess.run([*service["entrypoint"], script], env=env, capture_output=True, text=True, timeout=180)


async def test_temporal_init_creates_the_namespace_and_search_attributes_and_can_run_again(bare_temporal):
    first = run_init(bare_temporal)
    assert first.returncode == 0, first.stdout + first.stderr
    client = await Client.connect(bare_temporal, namespace="crisis")
    response = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace="crisis"))
    expected = {
        key.name: (
            IndexedValueType.INDEXED_VALUE_TYPE_BOOL
            if key.indexed_value_type.name == "BOOL"
            else IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
        )
        for key in ALL
    }
    assert {name: kind for name, kind in response.custom_attributes.items() if name in expected} == expected

    started = time.monotonic()
    again = run_init(bare_temporal)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.count("exists") == len(ALL) and time.monotonic() - started < 60
