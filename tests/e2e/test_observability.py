"""What an operator's Prometheus and log pipeline see: the API's /metrics after a real incident,
and a standalone ``crisis worker`` (JSON logs, the SDK's metrics endpoint, a graceful SIGTERM)
scaling out next to the dev stack's own worker."""

import asyncio
import json
import os
import signal
import subprocess
import uuid

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from domain.incident import IncidentPlan
from services.temporal import start_incident
from tests.e2e.stack import BIN, free_port

pytestmark = pytest.mark.e2e


def families(text: str) -> dict:
    return {family.name: family for family in text_string_to_metric_families(text)}


def samples(family, **labels) -> list:
    return [s for s in family.samples if all(s.labels.get(key) == value for key, value in labels.items())]


async def poll(fetch, predicate, seconds: float = 30):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        value = await fetch()
        if predicate(value):
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition never held; last value: {value!r}"[:2000])
        await asyncio.sleep(0.2)


async def test_metrics_after_an_incident(stack):
    async with stack.async_client() as client:
        declared = await client.post(
            "/incidents",
            json={"playbook": "technical_outage", "title": "Checkout down", "summary": "Orders fail."},
            headers={"Idempotency-Key": f"metrics-{uuid.uuid4()}"},
        )
        assert declared.status_code == 201, declared.text
        incident = declared.json()["id"]
        assert (await client.get(f"/incidents/{incident}")).status_code == 200

        async def scrape():
            response = await client.get("/metrics")
            assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
            return families(response.text)

        def paged_and_counted(found) -> bool:
            """The page sent, and the incident counted open in identify: the gauge reads the read model,
            which the projection brings up to date beside the flow."""
            sent = samples(found["crisis_pages"], channel="sms", status="sent", drill="false")
            identify = samples(found["crisis_incidents_open"], phase="identify", drill="false")
            return any(s.value >= 1 for s in sent) and any(s.value >= 1 for s in identify)

        found = await poll(scrape, paged_and_counted)

    assert found["crisis_read_model_up"].samples[0].value == 1
    open_by_phase = {s.labels["phase"]: s.value for s in samples(found["crisis_incidents_open"], drill="false")}
    assert set(open_by_phase) == {"identify", "assess", "respond", "communicate", "review"}
    assert open_by_phase["identify"] >= 1
    assert samples(found["crisis_pages"], channel="email", status="sent", drill="false")[0].value >= 1
    assert found["crisis_deadlines_missed"].type == "counter"
    assert found["crisis_notifications"].type == "counter"

    requests = found["crisis_http_request_duration_seconds"]
    assert requests.type == "histogram"
    assert samples(requests, method="POST", route="/incidents", status="201")
    assert samples(requests, method="GET", route="/incidents/{incident}", status="200")
    assert not any(incident in value for s in requests.samples for value in s.labels.values()), "an incident id became a label"
    assert "process_resident_memory_bytes" in found
    # crisis dev exempted its start-up heap from garbage collection once it was up (services/heap.py)
    assert found["crisis_process_gc_frozen_objects"].samples[0].value > 10_000


@pytest.fixture
def catalog():
    from domain.catalog import load_catalog
    from tests.conftest import PROJECT

    return load_catalog(PROJECT / "playbooks")


def plan_for(catalog, incident_id: str) -> IncidentPlan:
    book = catalog.playbooks["misinformation"]
    return IncidentPlan(
        id=incident_id,
        title="Fake recall rumour",
        summary="A fake recall notice circulates.",
        severity=book.default_severity,
        language=book.languages[0],
        drill=True,
        playbook=book,
        org=catalog.roster.org_chart(),
        template=catalog.template(book, book.languages[0]),
    )


async def test_a_standalone_worker_serves_sdk_metrics_logs_json_and_stops_gracefully(stack, temporal, catalog, tmp_path):
    """A second worker on its own task queue, against the stack's Temporal and database: what
    `crisis worker` does in production, on the same machine."""
    metrics_port = free_port()
    queue = f"observability-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "CRISIS_TEMPORAL_ADDRESS": stack.temporal_address,
        "DATABASE_URL": f"sqlite+aiosqlite:///{stack.data_dir / 'crisis.db'}",
        "CRISIS_TASK_QUEUE": queue,
        "CRISIS_WORKER_METRICS_BIND": f"127.0.0.1:{metrics_port}",
        "CRISIS_LOG_FORMAT": "json",
        "CRISIS_PUBLIC_URL": stack.url,
    }
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        worker = subprocess.Popen([str(BIN / "crisis"), "worker"], env=env, stdout=subprocess.DEVNULL, stderr=log)
    incident = f"inc-obs-{uuid.uuid4().hex[:12]}"
    try:
        async with httpx.AsyncClient(timeout=10) as client:

            async def sdk_metrics():
                if worker.poll() is not None:
                    raise AssertionError(f"crisis worker exited with {worker.returncode}:\n{log_path.read_text()}")
                try:
                    response = await client.get(f"http://127.0.0.1:{metrics_port}/metrics")
                except httpx.HTTPError:
                    return ""
                return response.text if response.status_code == 200 else ""

            # A worker's start (imports, the catalog, connecting) takes seconds, more on a loaded machine.
            text = await poll(sdk_metrics, lambda text: "temporal_worker_task_slots_available" in text, seconds=120)
            assert f'task_queue="{queue}"' in text

            assert await start_incident(temporal, queue, plan_for(catalog, incident))

            async def outbox():
                return (await client.get(f"{stack.url}/outbox", params={"incident": incident}, headers=stack.headers)).json()

            await poll(outbox, lambda messages: any(m["kind"] == "page" for m in messages))
            text = await poll(sdk_metrics, lambda text: "temporal_activity_execution_latency" in text)
            assert "temporal_workflow_task_execution_latency" in text
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=30)
        try:
            await temporal.get_workflow_handle(incident).terminate("observability test done")
        except Exception:
            pass
    lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    assert code == 0, "\n".join(lines)
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"ts", "level", "logger", "message"} <= set(record) for record in records)
    assert any("worker polling task queue " + queue in record["message"] for record in records)
    sends = [record for record in records if record["logger"].startswith("crisisflow.") and record.get("incident_id") == incident]
    assert sends, f"no activity log carried incident_id {incident}:\n" + "\n".join(lines)
    assert records[-1]["message"] == "worker stopped"
