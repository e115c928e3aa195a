"""Idempotency-Key on POST /incidents (issue 16, item 3), through the real app and a real worker on
the time-skipping server: the same key and body give the same incident, a different body is
refused naming what differs, and a key belongs to the API key that sent it."""

import asyncio
import uuid
from contextlib import suppress
from pathlib import Path

import httpx
import pytest_asyncio

from api.main import create_app
from services.temporal import incident_id
from settings import Settings
from store.db import create_engine, create_schema, session_factory
from tests.conftest import API_HEADERS, TEST_API_KEY
from worker import build_activities, build_listening_activities, build_worker

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"
DRILL = {
    "playbook": "technical_outage",
    "title": "Quarterly drill",
    "summary": "Practice run.",
    "severity": "SEV4",
    "drill": True,
}
BREACH = {
    "playbook": "account_compromise",
    "title": "Brand account hijacked",
    "summary": "Scam links posted.",
    "severity": "SEV1",
}


@pytest_asyncio.fixture(loop_scope="session")
async def api(time_skipping_env, tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'crisis.db'}"
    engine = create_engine(url)
    await create_schema(engine)
    settings = Settings(
        CRISIS_DATA_DIR=str(tmp_path),
        DATABASE_URL=url,
        CRISIS_PLAYBOOKS_DIR=str(PLAYBOOKS),
        CRISIS_API_KEY=TEST_API_KEY,
        CRISIS_TASK_QUEUE=f"idempotency-{uuid.uuid4().hex[:8]}",
        CRISIS_SENTIMENT_PROCESSES=0,
    )
    client = time_skipping_env.client
    sessions = session_factory(engine)
    worker = build_worker(
        client, settings, build_activities(settings, sessions), build_listening_activities(client, settings, sessions)
    )
    running = asyncio.create_task(worker.run())
    app = create_app(settings, temporal=client)
    try:
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=60, headers=API_HEADERS
            ) as http:
                yield http
    finally:
        await worker.shutdown()
        with suppress(asyncio.CancelledError):
            await running
        await engine.dispose()


async def test_a_reused_key_with_another_body_is_refused_naming_what_differs(api):
    key = {"Idempotency-Key": "drill-2026-q4"}
    first = await api.post("/incidents", json=DRILL, headers=key)
    assert first.status_code == 201, first.text
    again = await api.post("/incidents", json={**DRILL, "title": "  Quarterly drill "}, headers=key)  # the same declaration
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]

    breach = await api.post("/incidents", json=BREACH, headers=key)
    assert breach.status_code == 422, breach.text
    detail = breach.json()["detail"]
    assert detail.startswith("Idempotency-Key:") and first.json()["id"] in detail
    assert "(drill, playbook, severity, summary, title differ)" in detail
    state = (await api.get(f"/incidents/{first.json()['id']}")).json()
    assert state["severity"] == "SEV4" and state["drill"] is True  # the drill is untouched, and nothing else was declared

    declared = await api.post("/incidents", json=BREACH, headers={"Idempotency-Key": "breach-1"})
    assert declared.status_code == 201 and declared.json()["severity"] == "SEV1"


async def test_keys_belong_to_the_api_key_that_used_them(api):
    made = (await api.post("/apikeys", json={"name": "status-monitor", "scopes": ["declare"]})).json()
    monitor = {"Authorization": f"Bearer {made['key']}"}
    key = {"Idempotency-Key": "checkout-down"}
    ours = await api.post("/incidents", json=DRILL, headers=key)
    theirs = await api.post("/incidents", json=BREACH, headers={**key, **monitor})
    assert ours.status_code == 201 and theirs.status_code == 201, theirs.text
    assert theirs.json()["id"] != ours.json()["id"] and theirs.json()["severity"] == "SEV1"
    assert (await api.post("/incidents", json=BREACH, headers={**key, **monitor})).json()["id"] == theirs.json()["id"]
    # a caller cannot reach the incident a listening signal declared (its key is signal:<id>)
    signal_key = {"Idempotency-Key": "signal:sig-brand-1"}
    assert (await api.post("/incidents", json=DRILL, headers=signal_key)).json()["id"] != incident_id("signal:sig-brand-1")
