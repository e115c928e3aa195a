"""The floor: the least any Temporal workflow pays on this server and machine.

A bare workflow that runs one no-op activity, on its own worker in the bench process, against the
same dev server as crisisflow. The figure is ``start_workflow`` called → activity body running
(the activity notes the time itself), which is the shape of declare → first page without any of
crisisflow's work.
"""

import asyncio
import time
import uuid
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

_ran_at: dict[str, float] = {}
_ran: dict[str, asyncio.Event] = {}


@activity.defn(name="bench_floor_noop")
async def noop() -> None:
    workflow_id = activity.info().workflow_id
    _ran_at[workflow_id] = time.time()
    if (event := _ran.get(workflow_id)) is not None:
        event.set()


@workflow.defn(name="BenchFloor")
class FloorWorkflow:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity(noop, start_to_close_timeout=timedelta(seconds=30))


class Floor:
    """A worker for :class:`FloorWorkflow` on a task queue of its own; ``sample()`` gives one figure in ms."""

    def __init__(self, temporal_address: str):
        self._address = temporal_address
        self._task_queue = f"bench-floor-{uuid.uuid4().hex[:8]}"
        self._client: Client | None = None
        self._worker: Worker | None = None
        self._running: asyncio.Task | None = None

    async def __aenter__(self) -> "Floor":
        self._client = await Client.connect(self._address)
        self._worker = Worker(self._client, task_queue=self._task_queue, workflows=[FloorWorkflow], activities=[noop])
        self._running = asyncio.create_task(self._worker.run())
        return self

    async def __aexit__(self, *exc) -> None:
        if self._worker is not None:
            await self._worker.shutdown()
        if self._running is not None:
            await self._running

    async def sample(self, timeout: float = 30) -> float:
        assert self._client is not None
        workflow_id = f"bench-floor-{uuid.uuid4().hex}"
        ran = _ran[workflow_id] = asyncio.Event()
        try:
            started = time.time()
            handle = await self._client.start_workflow(FloorWorkflow.run, id=workflow_id, task_queue=self._task_queue)
            await asyncio.wait_for(ran.wait(), timeout)
            await handle.result()
            return (_ran_at.pop(workflow_id) - started) * 1000
        finally:
            _ran.pop(workflow_id, None)
