"""``crisis dev`` fails loudly: when its Temporal dev server dies it stops and says why, and its
children die with it."""

import os
import signal

import pytest

from tests.e2e.stack import DevStack, until

pytestmark = pytest.mark.e2e


def test_when_the_temporal_dev_server_dies_crisis_dev_stops_and_says_why(tmp_path):
    stack = DevStack(tmp_path / "data")
    stack.start()
    try:
        temporal = stack.temporal_pid()
        os.kill(temporal, signal.SIGKILL)
        code = until(lambda: stack.process.poll() is not None and [stack.process.returncode], seconds=90, what="crisis dev stopping")[0]
        assert code == 1
        said = " ".join(stack.log.read_text().split())
        assert f"the Temporal dev server (pid {temporal}) was killed by SIGKILL; crisisflow stopped the API and the worker" in said
        assert "start it again with `crisis dev`" in said
    finally:
        stack.stop()
