"""The whole product on the real dev server: declared over HTTP, driven only by ``pending``."""

import asyncio
import json

import httpx
import pytest
import yaml

from tests.conftest import PROJECT
from tests.driver import next_step

pytestmark = pytest.mark.e2e


async def drive(client: httpx.AsyncClient, incident_id: str, max_seconds: float = 120) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_seconds
    while loop.time() < deadline:
        state = (await client.get(f"/incidents/{incident_id}")).raise_for_status().json()
        if state["status"] == "closed":
            return state
        step = next_step(state)
        if step is None:
            await asyncio.sleep(0.1)
            continue
        response = await client.post(f"/incidents/{incident_id}/{step.path}", json=step.body)
        assert response.status_code == 200, (step, response.text)
    raise AssertionError(f"not closed in time; pending {state['pending']}")


async def test_declare_drive_to_closed_and_audit(stack, temporal):
    async with stack.async_client() as client:
        declared = await client.post(
            "/incidents",
            json={
                "playbook": "account_compromise",
                "title": "Brand account posting crypto scam",
                "summary": "Our main account posts scam links.",
            },
            headers={"Idempotency-Key": "e2e-hacked-account"},
        )
        assert declared.status_code == 201, declared.text
        incident = declared.json()
        assert incident["phase"] == "identify" and incident["status"] == "open"
        again = await client.post(
            "/incidents",
            json={
                "playbook": "account_compromise",
                "title": "Brand account posting crypto scam",
                "summary": "Our main account posts scam links.",
            },
            headers={"Idempotency-Key": "e2e-hacked-account"},
        )
        assert again.status_code == 200 and again.json()["id"] == incident["id"]

        final = await drive(client, incident["id"])
        assert final["phase"] == "closed"
        published = [s for s in final["statements"] if s["status"] == "published"]
        assert [s["kind"] for s in published][0] == "holding" and published[-1]["kind"] == "resolution"
        assert "click" in published[0]["text"].lower()

        outbox = (await client.get("/outbox", params={"incident": incident["id"]})).json()
        kinds = {(m["kind"], m["channel"]) for m in outbox}
        assert {
            ("page", "sms"),
            ("page", "email"),
            ("approval", "email"),
            ("statement.holding", "public"),
            ("statement.resolution", "public"),
        } <= kinds
        assert all(any(link["url"].endswith(f"/incidents/{incident['id']}/view") for link in m["links"]) for m in outbox)
        assert all(any("/a/" in link["url"] for link in m["links"]) for m in outbox if m["kind"] == "page")

        for _ in range(50):
            listed = (await client.get("/incidents", params={"status": "closed"})).json()
            if any(i["id"] == incident["id"] for i in listed):
                break
            await asyncio.sleep(0.1)
        row = next(i for i in listed if i["id"] == incident["id"])
        assert row["phase"] == "closed" and row["pending"] == []

        dashboard = await client.get("/")
        assert incident["id"] in dashboard.text and "/namespaces/default/workflows/" in dashboard.text
        page = await client.get(f"/incidents/{incident['id']}/view")
        assert page.status_code == 200 and "Timeline" in page.text

    timeline_kinds = [e["kind"] for e in final["timeline"]]
    for expected in (
        "declared",
        "paged",
        "acknowledged",
        "assessed",
        "task_completed",
        "statement_published",
        "resolved",
        "review_submitted",
    ):
        assert expected in timeline_kinds

    handle = temporal.get_workflow_handle(incident["id"])
    description = await handle.describe()
    attributes = {pair.key.name: pair.value for pair in description.typed_search_attributes if pair.key.name.startswith("Crisis")}
    assert attributes == {
        "CrisisScenario": "account_compromise",
        "CrisisSeverity": final["severity"],
        "CrisisPhase": "closed",
        "CrisisDrill": False,
    }
    assert await description.static_summary() == "Brand account posting crypto scam"

    history = json.dumps((await handle.fetch_history()).to_json_dict())
    roster = yaml.safe_load((PROJECT / "playbooks" / "team.yaml").read_text())
    for person in roster["people"]:
        assert person["phone"] not in history and person["email"] not in history
        assert person["phone"].lstrip("+") not in history


async def test_temporal_ui_is_served(stack):
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"http://127.0.0.1:{stack.ui_port}/")
    assert response.status_code == 200
