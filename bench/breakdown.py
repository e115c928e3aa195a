"""Where the time goes: each timed sample cut into steps by its workflow's own history.

The history's event times come from the Temporal server on this machine, so they line up with
the bench's ``time.time()``. The steps of declare → first page (and of the floor):

1. request → workflow started: the API (validation, pinning the plan) and the start RPC; for the
   floor, the start RPC alone;
2. → first workflow task picked up: the server hands the new workflow's first task to the worker;
3. first workflow task: the worker creates the workflow (in the sandbox) and runs it to its
   first commands;
4. → activity picked up: the first send (or the floor's no-op) reaches an activity slot;
5. activity → accepted: the activity runs until the provider accepted the first page (the floor:
   until the no-op's body starts).

For an approval: request → its workflow task picked up; the workflow task (validator, handler and
whatever else the workflow does in it); update completed → the API's answer (it also queries the
incident's state before answering).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

from bench.stats import percentile

START_STEPS = [
    "request → workflow started",
    "→ first workflow task picked up",
    "first workflow task",
    "→ activity picked up",
    "activity → accepted",
]
APPROVAL_STEPS = [
    "request → workflow task picked up",
    "workflow task (update handler)",
    "update completed → answer",
]


@dataclass(frozen=True)
class Sample:
    workflow_id: str
    sent: float  # time.time() when the request left the bench
    done: float  # time.time() when the bench had its answer (accepted page, ran activity, HTTP answer)


def _time(event: HistoryEvent) -> float:
    return event.event_time.seconds + event.event_time.nanos / 1e9


def _kind(event: HistoryEvent) -> str:
    return event.WhichOneof("attributes").removesuffix("_event_attributes")


async def _events(client: Client, workflow_id: str) -> list[HistoryEvent]:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return list(history.events)


def start_steps(events: list[HistoryEvent], sample: Sample, activity_type: str) -> dict[str, float]:
    """The five steps (ms) from a request to the first ``activity_type`` activity's result."""
    first = {}
    for event in events:
        first.setdefault(_kind(event), event)
    scheduled = {
        event.event_id
        for event in events
        if _kind(event) == "activity_task_scheduled"
        and event.activity_task_scheduled_event_attributes.activity_type.name == activity_type
    }
    started = [
        _time(event)
        for event in events
        if _kind(event) == "activity_task_started"
        and event.activity_task_started_event_attributes.scheduled_event_id in scheduled
    ]
    marks = [
        sample.sent,
        _time(first["workflow_execution_started"]),
        _time(first["workflow_task_started"]),
        _time(first["workflow_task_completed"]),
        min(started),
        sample.done,
    ]
    return {step: (marks[i + 1] - marks[i]) * 1000 for i, step in enumerate(START_STEPS)}


def approval_steps(events: list[HistoryEvent], sample: Sample) -> dict[str, float]:
    """The three steps (ms) of one decision: the first update completed after the request was sent."""
    task_started = None
    for event in events:
        at = _time(event)
        if at < sample.sent:
            continue
        kind = _kind(event)
        if kind == "workflow_task_started":
            task_started = at
        elif kind == "workflow_execution_update_completed" and task_started is not None:
            marks = [sample.sent, task_started, at, sample.done]
            return {step: (marks[i + 1] - marks[i]) * 1000 for i, step in enumerate(APPROVAL_STEPS)}
    raise LookupError(f"{sample.workflow_id}: no update completed after the request")


async def start_breakdown(client: Client, samples: Iterable[Sample], activity_type: str) -> dict[str, float]:
    """The median of each step over ``samples``."""
    steps = [start_steps(await _events(client, s.workflow_id), s, activity_type) for s in samples]
    return {step: percentile([s[step] for s in steps], 50) for step in START_STEPS}


async def approval_breakdown(client: Client, samples: Iterable[Sample]) -> dict[str, float]:
    steps = [approval_steps(await _events(client, s.workflow_id), s) for s in samples]
    return {step: percentile([s[step] for s in steps], 50) for step in APPROVAL_STEPS}
