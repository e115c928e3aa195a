"""The floor's workflow and activity, alone in a module: the sandbox re-imports a workflow's module
for every run, so nothing else may weigh on the floor."""

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
