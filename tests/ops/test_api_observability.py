"""The API in process, with a stand-in for Temporal: /metrics, the request log, and the schema
check at start."""

import asyncio
import io
import json
import logging

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from temporalio.service import RPCError, RPCStatusCode

from api.logs import IncidentContext, JsonFormatter
from api.main import create_app
from api.metrics import read_model_figures
from settings import Settings
from store.db import create_engine, create_schema, session_factory
from store.migrate import SchemaBehind
from tests.conftest import API_HEADERS, TEST_API_KEY


class UnknownWorkflows:
    """A Temporal client for which no incident exists."""

    def get_workflow_handle(self, workflow_id):
        return self

    async def query(self, *args, **kwargs):
        raise RPCError("workflow not found", RPCStatusCode.NOT_FOUND, b"")

    async def describe(self):
        raise RPCError("workflow not found", RPCStatusCode.NOT_FOUND, b"")


def database(path, schema: bool = True) -> str:
    url = f"sqlite+aiosqlite:///{path}"

    async def prepare():
        engine = create_engine(url)
        if schema:
            await create_schema(engine)
        await engine.dispose()

    asyncio.run(prepare())
    return url


@pytest.fixture
def request_log():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(IncidentContext())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("crisisflow.http")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)


def families(text: str) -> dict:
    return {family.name: family for family in text_string_to_metric_families(text)}


def test_metrics_label_requests_by_route_template_and_log_them_with_the_incident(tmp_path, request_log):
    app = create_app(
        Settings(DATABASE_URL=database(tmp_path / "crisis.db"), CRISIS_API_KEY=TEST_API_KEY), temporal=UnknownWorkflows()
    )
    with TestClient(app, headers=API_HEADERS) as client:
        assert client.get("/incidents/inc-abc123").status_code == 404
        assert client.post("/incidents", content=b"x" * 70_000, headers={"content-type": "application/json"}).status_code == 413
        assert client.get("/no/such/page").status_code == 404
        response = client.get("/metrics")
    assert response.status_code == 200
    found = families(response.text)
    requests = {
        (s.labels["method"], s.labels["route"], s.labels["status"]) for s in found["crisis_http_request_duration_seconds"].samples
    }
    assert {("GET", "/incidents/{incident}", "404"), ("POST", "<unmatched>", "413"), ("GET", "<unmatched>", "404")} <= requests
    assert not any("inc-abc123" in label for labels in requests for label in labels)
    assert found["crisis_read_model_up"].samples[0].value == 1
    assert {s.labels["phase"] for s in found["crisis_incidents_open"].samples} == {
        "identify",
        "assess",
        "respond",
        "communicate",
        "review",
    }
    assert {"crisis_pages", "crisis_notifications", "crisis_deadlines_missed", "process_cpu_seconds"} <= set(found)

    lines = [json.loads(line) for line in request_log.getvalue().splitlines()]
    lookup = next(line for line in lines if line["path"] == "/incidents/inc-abc123")
    assert lookup["incident_id"] == "inc-abc123" and lookup["route"] == "/incidents/{incident}" and lookup["status"] == 404
    assert lookup["logger"] == "crisisflow.http" and lookup["duration_ms"] >= 0
    assert "incident_id" not in next(line for line in lines if line["path"] == "/no/such/page")


def test_metrics_say_when_the_read_model_does_not_answer(tmp_path):
    async def scrape():
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'no-tables.db'}")
        try:
            async with session_factory(engine)() as session:
                return list((await read_model_figures(session)).collect())
        finally:
            await engine.dispose()

    collected = asyncio.run(scrape())
    assert [(family.name, family.samples[0].value) for family in collected] == [("crisis_read_model_up", 0)]


def test_the_api_refuses_a_database_behind_the_code(tmp_path):
    app = create_app(Settings(DATABASE_URL=database(tmp_path / "empty.db", schema=False)), temporal=UnknownWorkflows())
    with pytest.raises(SchemaBehind, match=r"run `crisis db upgrade`"):
        with TestClient(app):
            pass


def test_the_request_log_never_writes_an_action_links_token(tmp_path, request_log):
    """#16.10: the log wrote ``GET /a/<token> 200``; whoever reads the logs could act as the person paged."""
    token = "Zq3" + "x" * 40
    app = create_app(
        Settings(DATABASE_URL=database(tmp_path / "crisis.db"), CRISIS_API_KEY=TEST_API_KEY), temporal=UnknownWorkflows()
    )
    with TestClient(app, headers=API_HEADERS) as client:
        assert client.get(f"/a/{token}").status_code == 403  # no such link
        assert client.post(f"/a/{token}", headers={"origin": "null"}).status_code == 403
        assert client.post(f"/a/{token}", content=b"x" * 70_000).status_code == 413  # refused before routing
        assert client.get(f"/a/{token}/more").status_code == 404  # matches no route
        assert client.get("/incidents/inc-abc123").status_code == 404
    written = request_log.getvalue()
    assert token not in written
    lines = [json.loads(line) for line in written.splitlines()]
    assert [(line["method"], line["path"], line["status"]) for line in lines if line["path"].startswith("/a/")] == [
        ("GET", "/a/{token}", 403),
        ("POST", "/a/{token}", 403),
        ("POST", "/a/{token}", 413),
        ("GET", "/a/{token}", 404),
    ]
    assert all(line["message"].split()[1] == line["path"] for line in lines)
    assert any(line["path"] == "/incidents/inc-abc123" for line in lines)  # ids that are no secret stay readable
