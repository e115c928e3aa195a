"""A person's action is answered from its Update's result (#22 item 3): the Update answers once the
workflow has acted on the change, with the parts of the incident's view the API's copy lacks, and the
API asks the worker nothing more. Through the real app and a real worker on the time-skipping server;
the API's Temporal client counts the queries it sends, and the worker can hold every activity back so
that nothing changes the incident between an answer and the query that checks it."""

import asyncio
import uuid
from contextlib import suppress
from pathlib import Path

import httpx
import pytest_asyncio
from temporalio import activity
from temporalio import client as temporal_client
from temporalio import worker as temporal_worker
from temporalio.client import Client

from api.incidents import HELD_VIEWS
from api.main import create_app
from domain.incident import IncidentView
from services.temporal import query_state
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


class HeldActivities(temporal_worker.Interceptor):
    """While held, every activity the worker starts waits before it runs; ``started`` names them and
    ``running`` counts those past the gate and not yet done."""

    def __init__(self):
        self.open = asyncio.Event()
        self.open.set()
        self.started: list[str] = []
        self.running = 0

    def intercept_activity(self, next: temporal_worker.ActivityInboundInterceptor) -> temporal_worker.ActivityInboundInterceptor:
        gate = self

        class Held(temporal_worker.ActivityInboundInterceptor):
            async def execute_activity(self, input):
                gate.started.append(activity.info().activity_type)
                await gate.open.wait()
                gate.running += 1
                try:
                    return await self.next.execute_activity(input)
                finally:
                    gate.running -= 1

        return Held(next)

    async def hold(self, http: httpx.AsyncClient, client: Client, incident: str) -> dict:
        """Hold every activity from now on, and wait until those already running are done and the
        incident no longer changes; the incident then, read through the API (which keeps a copy)."""
        self.open.clear()
        self.started.clear()
        while self.running:
            await asyncio.sleep(0.05)
        last = None
        while (now := await settled_view(client, incident)) != last:
            last = now
            await asyncio.sleep(0.3)
        return (await http.get(f"/incidents/{incident}")).raise_for_status().json()


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
    held = HeldActivities()
    worker = build_worker(
        client,
        settings,
        build_activities(settings, sessions),
        build_listening_activities(client, settings, sessions),
        interceptors=[held],
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
                yield http, queries, held, client
    finally:
        held.open.set()
        await worker.shutdown()
        with suppress(asyncio.CancelledError):
            await running
        await engine.dispose()


def as_view(answer: dict) -> dict:
    """The incident in an action's answer, as the ``state`` query gives it."""
    return IncidentView.model_validate({k: v for k, v in answer.items() if k not in ("changes", "links")}).model_dump(mode="json")


async def settled_view(client: Client, incident: str) -> dict:
    return (await query_state(client, incident)).model_dump(mode="json")


async def drive_until(http: httpx.AsyncClient, incident: str, kind: str) -> dict:
    """Drive the incident as its pending list asks until an item of ``kind`` waits; that item."""
    for _ in range(300):
        state = (await http.get(f"/incidents/{incident}")).raise_for_status().json()
        if items := [item for item in state["pending"] if item["kind"] == kind]:
            return items[0]
        step = next_step(state)
        if step is None:
            await asyncio.sleep(0.1)
            continue
        response = await http.post(f"/incidents/{incident}/{step.path}", json=step.body)
        assert response.status_code == 200, response.text
    raise AssertionError(f"{incident} never asked for {kind}: {state['pending']}")


async def test_an_acknowledgement_is_answered_with_the_phase_the_flow_moved_to_without_a_query(stack):
    http, queries, held, client = stack
    declared = await http.post("/incidents", json=OUTAGE)
    assert declared.status_code == 201, declared.text
    incident = declared.json()["id"]
    await drive_until(http, incident, "acknowledge")
    state = await held.hold(http, client, incident)
    page = next(item for item in state["pending"] if item["kind"] == "acknowledge")
    before = queries.sent

    acknowledged = await http.post(f"/incidents/{incident}/acknowledge", json={"person": page["people"][0]})

    assert acknowledged.status_code == 200, acknowledged.text
    assert queries.sent == before
    answer = acknowledged.json()
    assert answer["phase"] == "assess" and answer["changes"] and answer["links"]["self"].endswith(incident)
    assert any(item["kind"] == "assessment" for item in answer["pending"])
    assert as_view(answer) == await settled_view(client, incident)


async def test_an_approval_that_starts_publishing_is_answered_as_the_incident_then_stands(stack):
    http, queries, held, client = stack
    declared = await http.post("/incidents", json=OUTAGE)
    incident = declared.json()["id"]
    await drive_until(http, incident, "approval")
    answers = []
    while True:
        state = await held.hold(http, client, incident)
        approval = next((item for item in state["pending"] if item["kind"] == "approval"), None)
        if approval is None:
            break
        version = approval["version"]
        before = queries.sent
        decided = await http.post(
            f"/incidents/{incident}/statements/{approval['version']}/decision",
            json={"person": approval["people"][0], "decision": "approve"},
        )
        assert decided.status_code == 200, decided.text
        assert queries.sent == before
        answer = decided.json()
        assert as_view(answer) == await settled_view(client, incident)
        answers.append(answer)
        if not any(item["kind"] == "approval" for item in answer["pending"]):
            break
        held.open.set()

    statement = next(s for s in answers[-1]["statements"] if s["version"] == version)
    assert statement["status"] == "approved"
    await asyncio.sleep(0.5)  # the publication's activity is started in the task that answered, and then runs
    assert "publish" in held.started
    held.open.set()


async def test_an_action_without_a_copy_is_answered_from_a_query(stack):
    """The API holds no copy of an incident it has not read or answered in this process: the Update
    answers without the view, and the API reads the state as it did before."""
    http, queries, held, client = stack
    declared = await http.post("/incidents", json=OUTAGE)
    incident = declared.json()["id"]
    await drive_until(http, incident, "acknowledge")
    state = await held.hold(http, client, incident)
    person = next(item for item in state["pending"] if item["kind"] == "acknowledge")["people"][0]
    HELD_VIEWS._views.pop(incident)
    before = queries.sent

    acknowledged = await http.post(f"/incidents/{incident}/acknowledge", json={"person": person})

    assert acknowledged.status_code == 200, acknowledged.text
    assert queries.sent == before + 1
    assert as_view(acknowledged.json()) == await settled_view(client, incident)
    held.open.set()
