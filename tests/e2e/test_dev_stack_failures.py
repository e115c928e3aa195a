"""``crisis dev`` fails loudly: when its Temporal dev server dies it stops and says why; its
children die with it; and a start names whatever holds its ports or its data."""

import os
import signal
import socket
import subprocess
from pathlib import Path

import pytest

import devstack
from tests.e2e.stack import BIN, DevStack, free_port, until

pytestmark = pytest.mark.e2e


def test_when_the_temporal_dev_server_dies_crisis_dev_stops_and_says_why(tmp_path):
    stack = DevStack(tmp_path / "data")
    stack.start()
    try:
        temporal = stack.temporal_pid()
        os.kill(temporal, signal.SIGKILL)
        code = until(
            lambda: stack.process.poll() is not None and [stack.process.returncode], seconds=90, what="crisis dev stopping"
        )[0]
        assert code == 1
        said = " ".join(stack.log.read_text().split())
        assert (
            f"the Temporal dev server (pid {temporal}) was killed by SIGKILL; crisisflow stopped the API and the worker" in said
        )
        assert "start it again with `crisis dev`" in said
    finally:
        stack.stop()


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_the_dev_server_dies_with_a_killed_crisis_dev_and_the_next_start_works(tmp_path):
    stack = DevStack(tmp_path / "data")
    stack.start()
    temporal = stack.temporal_pid()
    try:
        stack.process.kill()  # kill -9: no chance to stop anything itself
        stack.process.wait()
        until(lambda: not _port_open(stack.temporal_port), seconds=60, what="the orphaned dev server's port closing")
        until(lambda: not Path(f"/proc/{temporal}").exists(), seconds=30, what="the dev server exiting")
        stack.start()  # the same ports and the same data folder
        with stack.client() as http:
            assert http.get("/incidents").status_code == 200
    finally:
        stack.stop()
        for leftover in devstack.port_holders(stack.temporal_port):
            os.kill(leftover, signal.SIGKILL)


def test_a_leftover_dev_server_is_named_by_its_port_and_its_data_folder(tmp_path):
    stack = DevStack(tmp_path / "data")
    stack.data_dir.mkdir(parents=True)
    leftover = subprocess.Popen(  # as a `crisis dev` killed before this version left it running
        [
            str(BIN / "temporal"),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(stack.temporal_port),
            "--headless",
            "--db-filename",
            str(stack.data_dir / "temporal.db"),
            "--log-level",
            "error",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        until(lambda: _port_open(stack.temporal_port), seconds=60, what="the leftover dev server listening")
        same_port = subprocess.run([str(BIN / "crisis"), "dev"], env=stack.env, capture_output=True, text=True, timeout=60)
        said = " ".join(same_port.stderr.split())
        assert same_port.returncode == 1
        assert f"port {stack.temporal_port} (CRISIS_TEMPORAL_PORT) is already in use by process {leftover.pid} (" in said
        assert (
            f"a Temporal dev server, likely left over from an earlier `crisis dev` (`kill {leftover.pid}` stops it); free it or"
            " set CRISIS_TEMPORAL_PORT" in said
        )

        other_port = subprocess.run(
            [str(BIN / "crisis"), "dev"],
            env={**stack.env, "CRISIS_TEMPORAL_PORT": str(free_port())},
            capture_output=True,
            text=True,
            timeout=60,
        )
        said = " ".join(other_port.stderr.split())
        assert other_port.returncode == 1
        assert (
            f"the data folder {stack.data_dir.resolve()} is in use: {(stack.data_dir / 'temporal.db').resolve()} is open in"
            f" process {leftover.pid} (" in said
        )
        assert f"(`kill {leftover.pid}` stops it); stop it or set CRISIS_DATA_DIR to another folder" in said
        assert not _port_open(stack.api_port)
    finally:
        leftover.kill()
        leftover.wait()
