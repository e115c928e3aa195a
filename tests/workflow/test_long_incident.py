"""A long incident continues as new (issue #21 item 2): a SEV1 outage with its 30-minute update
cadence runs for 30 days on the time-skipping server, through the real API and worker, in workflow
runs that each stay under Temporal's 10k-event warning. The incident keeps working across runs: the
API reads and acts on it by its id, an answer proposed in one run is approved through its emailed
link in the next, every timeline event reaches the read model once and in order, nothing is sent
twice, and every run replays."""

import json
from collections import Counter
from datetime import timedelta
from urllib.parse import urlparse

import pytest
import pytest_asyncio
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from activities.models import IncidentOutcome
from services.workflow_runner import workflow_runner
from store import service
from tests.app_stack import open_stack
from tests.long_incident import Team, runs_of
from tests.workflow.harness import LOCAL_ACTIVITY
from workflows.incident import CONTINUE_AS_NEW_AFTER, IncidentWorkflow

DAYS = 30
# A month of a SEV1 outage is about a thousand update cycles, each run by the real worker: minutes on
# this machine (docs/testing.md), so it is marked long (one of the slow suites) with its own deadline.
pytestmark = [pytest.mark.long, pytest.mark.timeout(2400)]
SENDS = {"notify", "publish", "brief_stakeholders", "send_internal", "request_feedback", "signal_targets"}
LOCAL_SENDS = {"notify_each"}
WARNING = 10_240  # Temporal's history-length warning (the hard limit is 51,200)


@pytest_asyncio.fixture(loop_scope="session")
async def stack(time_skipping_env, tmp_path):
    async with open_stack(time_skipping_env, tmp_path) as opened:
        yield opened


def sends(history: WorkflowHistory) -> list[str]:
    """The activity ids of what a run sent or published (the ledger key is the workflow id and these),
    each once: the commander's first page is a local activity of the first task (its marker), whose
    failed try would go on to an activity of the same id."""
    ids = []
    for event in history.events:
        if event.HasField("activity_task_scheduled_event_attributes"):
            if event.activity_task_scheduled_event_attributes.activity_type.name in SENDS:
                ids.append(event.activity_task_scheduled_event_attributes.activity_id)
        elif event.HasField("marker_recorded_event_attributes"):
            marker = event.marker_recorded_event_attributes
            if marker.marker_name == LOCAL_ACTIVITY:
                data = json.loads(marker.details["data"].payloads[0].data)
                if data["activity_type"] in LOCAL_SENDS:
                    ids.append(data["activity_id"])
    return list(dict.fromkeys(ids))


def approval_link(message, base: str = "http://test") -> str:
    """The path of the single-use link in an approval request."""
    link = next(link for link in message.links if "/a/" in link["url"])
    assert link["url"].startswith(base)
    return urlparse(link["url"]).path


async def test_a_sev1_outage_runs_for_30_days_in_runs_under_10k_events_each_and_keeps_working(stack):
    http, env, sessions = stack.http, stack.env, stack.sessions
    team = await Team.declare(stack)
    incident = team.incident
    start = await env.get_current_time()

    state = await team.run_until(start + timedelta(days=3), stop=lambda s: s["earlier"]["runs"] >= 1)
    assert state["earlier"]["runs"] == 1, "no continue-as-new in the first three days of a SEV1 outage"
    # The first run ended between update cycles (the last statement published, nothing in flight) and
    # the next carries the state on from there, its numbers going on.
    assert state["statements"][0]["status"] == "published" and all(s["status"] != "published" for s in state["statements"][1:])
    assert state["timeline"][0]["seq"] == state["earlier"]["events"] + 1
    assert state["statements"][0]["version"] == state["earlier"]["statements"] + 1

    # An Update after the continue-as-new: the fact sheet changes, and the next update says so.
    commander = next(item for item in state["pending"] if item["kind"] == "resolve")["people"][0]
    edited = await team.post("fact-sheet", {"person": commander, "fields": {"what_to_do": "Order at the counter in any store."}})
    assert edited["fact_sheet"]["what_to_do"] == "Order at the counter in any store.", edited["changes"]
    latest = edited["statements"][-1]["version"]
    drafted = await team.run_until(start + timedelta(days=4), stop=lambda s: s["statements"][-1]["version"] > latest)
    assert drafted["statements"][-1]["changed"] == ["what_to_do"]
    # An answer proposed in this run, approved through its emailed links in a later one.
    reply = "We will post the next update at the time on our status page."
    proposed = await team.post("answers/when_fixed", {"person": commander, "text": reply})
    assert next(a for a in proposed["answers_kit"] if a["id"] == "when_fixed")["proposal"]["status"] == "pending_approval"
    runs_then = state["earlier"]["runs"]

    state = await team.run_until(start + timedelta(days=DAYS), stop=lambda s: False)
    assert state["earlier"]["runs"] > runs_then
    async with sessions() as session:
        outbox = await service.list_outbox(session, incident_id=incident, limit=100_000)
    asked = [m for m in outbox if m.kind == "answer_approval" and m.channel == "email"]
    assert asked, sorted({m.kind for m in outbox})
    for message in asked:
        done = await http.post(
            approval_link(message), content="decision=approve", headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert done.status_code in (200, 409), done.text
    state = await team.state()
    answer = next(a for a in state["answers_kit"] if a["id"] == "when_fixed")
    assert answer["source"] == "incident" and answer["text"] == reply and answer["approved_by"]

    # Resolved on day 30: the resolution statement, the review, closed.
    await team.post("resolve", {"person": commander, "summary": "Checkout is back in every region."})
    state = await team.run_until(start + timedelta(days=DAYS + 7), stop=lambda s: s["status"] == "closed")
    assert state["status"] == "closed" and state["severity"] == "SEV1"
    outcome: IncidentOutcome = await env.client.get_workflow_handle(incident, result_type=IncidentOutcome).result()

    runs = await runs_of(env.client, incident)
    lengths = [len(history.events) for history in runs]
    print(f"{len(runs)} runs in {DAYS} days, events per run: {lengths}")
    print(f"stuck test-server locks released: {team.stuck_locks_released}, reads asked again: {team.reads_asked_again}")
    assert all(length < WARNING for length in lengths), lengths
    assert max(lengths[:-1]) < CONTINUE_AS_NEW_AFTER + 500, lengths  # each ends at the first safe point past the bound
    assert outcome.runs == len(runs) >= DAYS // 2 and outcome.status == "closed"

    # Every event projected once, in order, across every run; the read model's row is current.
    async with sessions() as session:
        rows = await service.list_timeline(session, incident)
        row = await service.get_incident(session, incident)
        outbox = await service.list_outbox(session, incident_id=incident, limit=100_000)
    assert [r.seq for r in rows] == list(range(1, outcome.events + 1))
    assert row.projected_seq == outcome.events and row.phase == "closed"
    published = [r for r in rows if r.kind == "statement_published"]
    versions = [r.data["version"] for r in published]
    assert len(versions) == len(set(versions)) > DAYS * 20  # every 30 minutes plus the approvers' window, each version once

    # Nothing was sent twice: no run sent again what a run before it sent (a send's activity id, and so
    # its ledger key, is the same in every run), and the outbox holds each send the histories name.
    sent = Counter(activity_id for history in runs for activity_id in sends(history))
    assert not [activity_id for activity_id, count in sent.items() if count > 1]
    assert {m.ledger_key.split("/")[1] for m in outbox} <= set(sent)

    # The runs replay on today's code: the declared one, a continued one and the one that closed the
    # incident (without the deadlock detection a loaded machine would trip, as the worker above).
    replayer = Replayer(
        workflows=[IncidentWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(pydantic_data_converter),
        debug_mode=True,
    )
    for history in (runs[0], runs[1], runs[-1]):
        await replayer.replay_workflow(history)
