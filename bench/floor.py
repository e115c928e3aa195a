"""The floors: the least any Temporal workflow pays on this server and machine.

A bare workflow that runs one no-op activity (``bench/floor_workflow.py``), on its own worker in
the bench process and its own task queue, against the same dev server as crisisflow. The figure
is ``start_workflow`` called → activity body running (the activity notes the time itself), which is
the shape of declare → first page without any of crisisflow's work.

The Update floor: a bare workflow waiting for Updates on the same worker; the figure is
``execute_update`` called → its result back in the bench, the shape of a person's decision
(``POST …/decision`` → answer) without HTTP or any of crisisflow's work.
"""

import asyncio
import time
import uuid

from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from bench import floor_workflow
from bench.breakdown import Sample
from bench.floor_workflow import FloorWorkflow, UpdateFloorWorkflow, noop
from services.workflow_runner import workflow_runner

ACTIVITY = "bench_floor_noop"


class Floor:
    """A worker for the floors' workflows on a task queue of its own; ``sample()`` times one run of
    :class:`FloorWorkflow`, ``update_sample()`` one Update of a waiting :class:`UpdateFloorWorkflow`."""

    def __init__(self, client: Client):
        self._client = client
        self._task_queue = f"bench-floor-{uuid.uuid4().hex[:8]}"
        self._worker: Worker | None = None
        self._running: asyncio.Task | None = None
        self._waiting: WorkflowHandle | None = None

    async def __aenter__(self) -> "Floor":
        self._worker = Worker(
            self._client,
            task_queue=self._task_queue,
            workflows=[FloorWorkflow, UpdateFloorWorkflow],
            activities=[noop],
            workflow_runner=workflow_runner(self._client.data_converter),
        )
        self._running = asyncio.create_task(self._worker.run())
        return self

    async def __aexit__(self, *exc) -> None:
        if self._waiting is not None:
            await self._waiting.signal(UpdateFloorWorkflow.finish)
            await self._waiting.result()
        if self._worker is not None:
            await self._worker.shutdown()
        if self._running is not None:
            await self._running

    async def sample(self, timeout: float = 30) -> Sample:
        workflow_id = f"bench-floor-{uuid.uuid4().hex}"
        ran = floor_workflow.ran[workflow_id] = asyncio.Event()
        try:
            started = time.time()
            handle = await self._client.start_workflow(FloorWorkflow.run, id=workflow_id, task_queue=self._task_queue)
            await asyncio.wait_for(ran.wait(), timeout)
            await handle.result()
            return Sample(workflow_id, started, floor_workflow.ran_at.pop(workflow_id))
        finally:
            floor_workflow.ran.pop(workflow_id, None)

    async def update_sample(self) -> Sample:
        """One Update's round trip to a workflow that waits for it (started at the first sample and
        kept, as an incident waits for its decisions)."""
        if self._waiting is None:
            self._waiting = await self._client.start_workflow(
                UpdateFloorWorkflow.run, id=f"bench-update-floor-{uuid.uuid4().hex}", task_queue=self._task_queue
            )
        sent = time.time()
        await self._waiting.execute_update(UpdateFloorWorkflow.touch)
        return Sample(self._waiting.id, sent, time.time())
