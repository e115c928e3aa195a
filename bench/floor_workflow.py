"""The floors' workflows and activity, alone in a module: the sandbox re-imports a workflow's module
for every run, so nothing else may weigh on the floors."""

import asyncio
import time
from datetime import timedelta

from temporalio import activity, workflow

ran_at: dict[str, float] = {}
ran: dict[str, asyncio.Event] = {}


@activity.defn(name="bench_floor_noop")
async def noop() -> None:
    """Notes when it ran (outside the sandbox, in the bench process) and tells the waiting sample."""
    workflow_id = activity.info().workflow_id
    ran_at[workflow_id] = time.time()
    if (event := ran.get(workflow_id)) is not None:
        event.set()


@workflow.defn(name="BenchFloor")
class FloorWorkflow:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity(noop, start_to_close_timeout=timedelta(seconds=30))


@workflow.defn(name="BenchUpdateFloor")
class UpdateFloorWorkflow:
    """Waits for Updates: ``touch`` is the least an Update costs (a synchronous handler that
    changes the state and answers), the shape of a person's decision without crisisflow's work."""

    def __init__(self) -> None:
        self._touched = 0
        self._done = False

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self._done)
        return self._touched

    @workflow.update
    def touch(self) -> int:
        self._touched += 1
        return self._touched

    @workflow.signal
    def finish(self) -> None:
        self._done = True
