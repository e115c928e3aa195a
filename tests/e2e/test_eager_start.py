"""Eager workflow start on the real dev server: `crisis dev`'s API shares its worker's connection,
so a declaration's first workflow task comes back with the start and runs on that worker; any
other caller's start (`crisis api` beside separate workers) is an ordinary one, and still runs."""

import asyncio
import uuid

import pytest
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

from services.temporal import query_state, start_incident
from settings import Settings
from tests.e2e.test_observability import plan_for

pytestmark = pytest.mark.e2e


async def first_events(temporal: Client, incident: str) -> list[HistoryEvent]:
    """The history once the first workflow task is completed (the worker ran it)."""
    for _ in range(600):
        events = list((await temporal.get_workflow_handle(incident).fetch_history()).events)
        if any(event.HasField("workflow_task_completed_event_attributes") for event in events):
            return events
        await asyncio.sleep(0.1)
    raise AssertionError(f"{incident}: no workflow task completed")


async def test_a_declaration_to_crisis_dev_starts_eagerly_on_its_worker(stack, temporal):
    async with stack.async_client() as client:
        declared = await client.post(
            "/incidents",
            json={"playbook": "misinformation", "title": "Fake recall rumour", "summary": "A fake recall notice circulates."},
        )
    assert declared.status_code == 201, declared.text

    events = await first_events(temporal, declared.json()["id"])

    assert events[0].workflow_execution_started_event_attributes.eager_execution_accepted


async def test_a_start_from_another_connection_is_an_ordinary_start_and_runs(stack, temporal, catalog):
    """The test's own client has no worker: as `crisis api` beside separate workers, its eager
    request falls back to the task queue, where `crisis dev`'s worker takes the incident."""
    plan = plan_for(catalog, f"inc-ordinary-start-{uuid.uuid4().hex[:8]}")

    assert await start_incident(temporal, Settings.model_fields["task_queue"].default, plan)

    events = await first_events(temporal, plan.id)
    assert not events[0].workflow_execution_started_event_attributes.eager_execution_accepted
    state = await query_state(temporal, plan.id)
    assert state.phase.value == "identify" and state.pending
