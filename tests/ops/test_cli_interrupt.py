"""Ctrl-C ends any `crisis` command with one line and status 130, never a traceback: here while
each command waits on a server that accepted its connection and never answers."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

CRISIS = Path(sys.executable).parent / "crisis"


@pytest.mark.parametrize(
    "command",
    [
        lambda port: ["ls", "--url", f"http://127.0.0.1:{port}"],
        lambda port: ["declare", "technical_outage", "--title", "t", "--summary", "s", "--url", f"http://127.0.0.1:{port}"],
        lambda port: ["db", "upgrade"],
    ],
    ids=["ls", "declare", "db upgrade"],
)
def test_ctrl_c_stops_a_waiting_command_without_a_traceback(command, tmp_path):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        silent.settimeout(300)
        port = silent.getsockname()[1]
        env = {
            **os.environ,
            "CRISIS_API_KEY": "cf_interrupt-test-key",
            "CRISIS_DATA_DIR": str(tmp_path),
            "DATABASE_URL": f"postgresql+asyncpg://crisis@127.0.0.1:{port}/crisis",
        }
        process = subprocess.Popen(
            [str(CRISIS), *command(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            connection, _ = silent.accept()  # the command is running and waits for an answer
            with connection:
                process.send_signal(signal.SIGINT)
                _, stderr = process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and stderr.strip() == "interrupted (Ctrl-C): stopped"
