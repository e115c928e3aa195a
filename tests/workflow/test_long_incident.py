"""A long incident continues as new (issue #21 item 2): a SEV1 outage with its 30-minute update
cadence runs for 30 days on the time-skipping server, through the real API and worker, in workflow
runs that each stay under Temporal's 10k-event warning. The incident keeps working across runs: the
API reads and acts on it by its id, an answer proposed in one run is approved through its emailed
link in the next, every timeline event reaches the read model once and in order, and nothing is sent
twice."""

import asyncio
import uuid
from collections import Counter
from contextlib import suppress
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from activities.models import IncidentOutcome
from api.main import create_app
from api.settings import Settings
from store import service
from store.db import create_engine, create_schema, session_factory
from tests.conftest import API_HEADERS, TEST_API_KEY
from worker import build_activities, build_listening_activities, build_worker
from workflows.incident import CONTINUE_AS_NEW_AFTER, IncidentWorkflow

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"
OUTAGE = {"playbook": "technical_outage", "title": "Checkout down in every region", "summary": "Payments time out.", "severity": "SEV1",
          "fact_sheet": {"headline": "Online ordering is down"}}
DAYS = 30
# A month of a SEV1 outage is about a thousand update cycles, each run by the real worker: minutes on
# this machine (docs/testing.md), so it is marked long (one of the slow suites) with its own deadline.
pytestmark = [pytest.mark.long, pytest.mark.timeout(2400)]
SENDS = {"notify", "publish", "brief_stakeholders", "send_internal", "request_feedback", "signal_targets"}
WARNING = 10_240  # Temporal's history-length warning (the hard limit is 51,200)


@pytest_asyncio.fixture(loop_scope="session")
async def stack(time_skipping_env, tmp_path):
    """The API and the worker as they run in production, on the time-skipping server."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'crisis.db'}"
    engine = create_engine(url)
    await create_schema(engine)
    settings = Settings(
        CRISIS_DATA_DIR=str(tmp_path), DATABASE_URL=url, CRISIS_PLAYBOOKS_DIR=str(PLAYBOOKS), CRISIS_API_KEY=TEST_API_KEY,
        CRISIS_TASK_QUEUE=f"long-{uuid.uuid4().hex[:8]}", CRISIS_SENTIMENT_PROCESSES=0, CRISIS_PUBLIC_URL="http://test",
    )
    client = time_skipping_env.client
    sessions = session_factory(engine)
    worker = build_worker(client, settings, build_activities(settings, sessions), build_listening_activities(client, settings, sessions))
    running = asyncio.create_task(worker.run())
    app = create_app(settings, temporal=client)
    try:
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=60, headers=API_HEADERS) as http:
                yield http, time_skipping_env, sessions
    finally:
        await worker.shutdown()
        with suppress(asyncio.CancelledError):
            await running
        await engine.dispose()


class Team:
    """The crisis team, acting through the API only on what the incident's ``pending`` list asks."""

    def __init__(self, http: httpx.AsyncClient, env, incident: str):
        self.http, self.env, self.incident = http, env, incident

    async def state(self) -> dict:
        response = await self.http.get(f"/incidents/{self.incident}")
        assert response.status_code == 200, response.text
        return response.json()

    async def post(self, path: str, body: dict) -> dict:
        response = await self.http.post(f"/incidents/{self.incident}/{path}", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    async def act(self, state: dict) -> bool:
        """Do one thing the pending list asks (statement approvals and tasks); False when nothing."""
        for item in state["pending"]:
            if item["kind"] == "acknowledge":
                await self.post("acknowledge", {"person": item["people"][0]})
            elif item["kind"] == "assessment":
                answers = {q["id"]: "Checked." for q in item["questions"]}
                await self.post("assessment", {"person": item["people"][0], "impact": "extreme", "reach": "high", "answers": answers,
                                               "facts": ["Checkout fails in every region."], "audiences": ["customers"]})
            elif item["kind"] == "task":
                await self.post(f"tasks/{item['task_id']}/complete", {"person": item["people"][0], "note": "done"})
            elif item["kind"] == "approval":
                await self.post(f"statements/{item['version']}/decision", {"person": item["people"][0], "decision": "approve"})
            elif item["kind"] == "review":
                await self.post("review", {"person": item["people"][0], "summary": "A month-long outage, handled.", "went_well": ["Updates on time"],
                                           "went_badly": ["The outage itself"], "action_items": []})
            else:
                continue
            return True
        return False

    async def run_until(self, end: datetime, stop=lambda state: False) -> dict:
        """Act on the incident and let its time pass, to the next update's drafting each time, until ``end``."""
        while True:
            state = await self.state()
            if stop(state):
                return state
            if await self.act(state):
                continue
            now = await self.env.get_current_time()
            if now >= end:
                return state
            due = state["next_update_due"] and datetime.fromisoformat(state["next_update_due"])
            drafting = due - timedelta(minutes=5) if due else None  # SEV1's approval window before the promise
            if drafting and drafting > now and not in_flight(state):
                await self.env.sleep(min(drafting, end) - now + timedelta(seconds=1))
            else:
                await asyncio.sleep(0.02)  # the workflow is drafting or publishing (activities run in real time)


def in_flight(state: dict) -> bool:
    return any(s["status"] in ("pending_approval", "approved") for s in state["statements"])


async def runs_of(client: Client, incident: str) -> list[WorkflowHistory]:
    """The history of every run of the incident's workflow, oldest first (each names the run it continued)."""
    runs = []
    run_id = (await client.get_workflow_handle(incident).describe()).run_id
    while run_id:
        history = await client.get_workflow_handle(incident, run_id=run_id).fetch_history()
        runs.append(history)
        run_id = history.events[0].workflow_execution_started_event_attributes.continued_execution_run_id
    return runs[::-1]


def sends(history: WorkflowHistory) -> list[str]:
    """The activity ids of what a run sent or published (the ledger key is the workflow id and these)."""
    return [
        event.activity_task_scheduled_event_attributes.activity_id
        for event in history.events
        if event.HasField("activity_task_scheduled_event_attributes")
        and event.activity_task_scheduled_event_attributes.activity_type.name in SENDS
    ]


def approval_link(message, base: str = "http://test") -> str:
    """The path of the single-use link in an approval request."""
    link = next(link for link in message.links if "/a/" in link["url"])
    assert link["url"].startswith(base)
    return urlparse(link["url"]).path


async def test_a_sev1_outage_runs_for_30_days_in_runs_under_10k_events_each_and_keeps_working(stack):
    http, env, sessions = stack
    declared = await http.post("/incidents", json=OUTAGE)
    assert declared.status_code == 201, declared.text
    incident = declared.json()["id"]
    team = Team(http, env, incident)
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
        done = await http.post(approval_link(message), content="decision=approve", headers={"Content-Type": "application/x-www-form-urlencoded"})
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

    # Every run, the continued ones included, replays on today's code.
    replayer = Replayer(workflows=[IncidentWorkflow], data_converter=pydantic_data_converter)
    for history in runs:
        await replayer.replay_workflow(history)
