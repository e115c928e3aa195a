"""A person's action is answered from its Update's result (#22 item 3): the incident as the action
left it comes back with the Update, and the API asks the worker nothing more. Through the real app
and a real worker on the time-skipping server; the API's Temporal client counts the queries it sends."""

import asyncio
import uuid
from contextlib import suppress
from pathlib import Path

import httpx
import pytest_asyncio
from temporalio import client as temporal_client
from temporalio.client import Client

from api.main import create_app
from settings import Settings
from store.db import create_engine, create_schema, session_factory
from tests.conftest import API_HEADERS, TEST_API_KEY
from tests.driver import next_step
from worker import build_activities, build_listening_activities, build_worker

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"
BASE = "http://test"
OUTAGE = {"playbook": "technical_outage", "title": "Checkout down", "summary": "500s on checkout.", "severity": "SEV3"}


class CountedQueries(temporal_client.Interceptor):
    """Counts the queries the API's client sends (and sends them on)."""

    def __init__(self):
        self.sent = 0

    def intercept_client(self, next: temporal_client.OutboundInterceptor) -> temporal_client.OutboundInterceptor:
        counter = self

        class Counting(temporal_client.OutboundInterceptor):
            async def query_workflow(self, input):
                counter.sent += 1
                return await self.next.query_workflow(input)

        return Counting(next)


@pytest_asyncio.fixture(loop_scope="session")
async def stack(time_skipping_env, tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'crisis.db'}"
    engine = create_engine(url)
    await create_schema(engine)
    settings = Settings(
        CRISIS_DATA_DIR=str(tmp_path),
        DATABASE_URL=url,
        CRISIS_PLAYBOOKS_DIR=str(PLAYBOOKS),
        CRISIS_API_KEY=TEST_API_KEY,
        CRISIS_TASK_QUEUE=f"answers-{uuid.uuid4().hex[:8]}",
        CRISIS_SENTIMENT_PROCESSES=0,
        CRISIS_PUBLIC_URL=BASE,
    )
    client = time_skipping_env.client
    sessions = session_factory(engine)
    worker = build_worker(
        client, settings, build_activities(settings, sessions), build_listening_activities(client, settings, sessions)
    )
    running = asyncio.create_task(worker.run())
    queries = CountedQueries()
    api_client = Client(
        client.service_client, namespace=client.namespace, data_converter=client.data_converter, interceptors=[queries]
    )
    app = create_app(settings, temporal=api_client)
    try:
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url=BASE, timeout=60, headers=API_HEADERS
            ) as http:
                yield http, queries
    finally:
        await worker.shutdown()
        with suppress(asyncio.CancelledError):
            await running
        await engine.dispose()


async def waiting_for_approval(http: httpx.AsyncClient) -> tuple[str, dict]:
    """An incident driven as its pending list asks until a statement waits for approval."""
    declared = await http.post("/incidents", json=OUTAGE)
    assert declared.status_code == 201, declared.text
    incident = declared.json()["id"]
    for _ in range(300):
        state = (await http.get(f"/incidents/{incident}")).raise_for_status().json()
        if approvals := [item for item in state["pending"] if item["kind"] == "approval"]:
            return incident, approvals[0]
        step = next_step(state)
        if step is None:
            await asyncio.sleep(0.1)
            continue
        response = await http.post(f"/incidents/{incident}/{step.path}", json=step.body)
        assert response.status_code == 200, response.text
    raise AssertionError(f"{incident} never asked for an approval: {state['pending']}")


async def test_a_decision_is_answered_from_its_update_without_a_query(stack):
    http, queries = stack
    incident, approval = await waiting_for_approval(http)
    person = approval["people"][0]
    before = queries.sent

    decided = await http.post(
        f"/incidents/{incident}/statements/{approval['version']}/decision", json={"person": person, "decision": "approve"}
    )

    assert decided.status_code == 200, decided.text
    assert queries.sent == before
    answer = decided.json()
    assert answer["id"] == incident and answer["changes"] and answer["links"]["self"].endswith(incident)
    statement = next(s for s in answer["statements"] if s["version"] == approval["version"])
    assert person in [decision["person"] for decision in statement["decisions"]]
    assert not any(item["kind"] == "approval" and item["role"] == approval["role"] for item in answer["pending"])
    assert answer["changes"][-1] in [event["message"] for event in answer["timeline"]]
    # The decision as a read of the live state shows it (the read itself is a query).
    live = (await http.get(f"/incidents/{incident}")).json()
    assert next(s for s in live["statements"] if s["version"] == approval["version"])["decisions"] == statement["decisions"]
