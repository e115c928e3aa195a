"""A large team paged at declaration starts its escalations in waves (issue 22 #4): a thousand roles in
one activation took the worker past the SDK's 2-second deadlock limit on a loaded machine. With 250
roles, each wave of at most ``PAGE_WAVE`` starts in an activation of its own, ended by a local
activity; every page is still scheduled by the declaration's first workflow task, since a timer
between the waves cost a second each (``lean-waves-in-one-task``; tests/histories/waves.json replays
the timer's path), and everyone is paged once."""

import asyncio
import json
from collections import Counter

import pytest_asyncio
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from bench.playbooks import FANOUT_PLAYBOOK, write_fanout_playbooks
from domain.catalog import load_catalog
from services.workflow_runner import workflow_runner
from tests.conftest import PROJECT
from tests.workflow.harness import LOCAL_ACTIVITY, open_harness
from workflows.incident import IncidentWorkflow
from workflows.incident_flow import PAGE_WAVE, WAVE_GAP

ROLES = 250


@pytest_asyncio.fixture(loop_scope="session")
async def big_team(time_skipping_env, tmp_path):
    catalog = load_catalog(write_fanout_playbooks(PROJECT / "playbooks", tmp_path / "playbooks", ROLES))
    async with open_harness(time_skipping_env, catalog, tmp_path / "crisis.db") as ready:
        yield ready


def _pages_per_workflow_task(history) -> list[int]:
    """How many people each workflow task scheduled pages for, in order: one a ``page.`` activity,
    and each notice of a batch (``pages.``, ``lean-fanout-batch-pages``)."""
    counts, current = [], 0
    for event in history.events:
        if event.HasField("activity_task_scheduled_event_attributes"):
            scheduled = event.activity_task_scheduled_event_attributes
            if scheduled.activity_id.startswith("pages."):
                current += len(json.loads(scheduled.input.payloads[0].data)["notices"])
            else:
                current += scheduled.activity_id.startswith("page.")
        elif event.HasField("workflow_task_completed_event_attributes"):
            counts.append(current)
            current = 0
    return [count for count in counts if count]


async def test_a_team_of_250_roles_is_paged_in_waves_and_everyone_once(big_team):
    plan = big_team.plan(FANOUT_PLAYBOOK)
    handle = await big_team.start(plan)
    for _ in range(600):
        pages = [m for m in await big_team.outbox(plan.id) if m.kind == "page"]
        if len(pages) >= 2 * ROLES:
            break
        await asyncio.sleep(0.1)
    sent = Counter((m.person_id, m.channel) for m in await big_team.outbox(plan.id) if m.kind == "page")
    assert len(sent) == 2 * ROLES and set(sent.values()) == {1}
    history = await handle.fetch_history()
    waves = _pages_per_workflow_task(history)
    assert waves[0] == ROLES, waves
    between_waves = [
        event
        for event in history.events
        if event.HasField("marker_recorded_event_attributes")
        and event.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY
    ]
    assert len(between_waves) == -(-ROLES // PAGE_WAVE) - 1
    # ``lean-fanout-wave-timers``: one acknowledgement timer a wave, not one a role; no timer ends a wave. And
    # the run replays.
    within = plan.playbook.identify.acknowledge_within.at(plan.severity)
    timers = [
        event.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
        for event in history.events
        if event.HasField("timer_started_event_attributes")
    ]
    assert timers.count(within) == len(between_waves) + 1 and WAVE_GAP not in timers, timers
    await Replayer(
        workflows=[IncidentWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(pydantic_data_converter),
    ).replay_workflow(history)
