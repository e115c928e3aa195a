"""Keys on the real stack: which key did each thing is in the timeline, the read model and the
Update's arguments in Temporal's history; a key without the scope is refused; a revoked key stops."""

import asyncio
import sqlite3

import pytest

pytestmark = pytest.mark.e2e


async def test_the_timeline_and_the_history_name_the_key_that_acted(stack, temporal):
    async with stack.async_client() as admin:
        made = await admin.post("/apikeys", json={"name": "ops-desk", "scopes": ["respond"]})
        ops = {"Authorization": f"Bearer {made.json()['key']}"}
        body = {"playbook": "account_compromise", "title": "Brand account hijacked", "summary": "Our account posts spam."}
        assert (await admin.post("/incidents", json=body, headers=ops)).status_code == 403
        incident = (await admin.post("/incidents", json=body)).json()["id"]

        acknowledged = await admin.post(f"/incidents/{incident}/acknowledge", json={"person": "ewa.lewandowska"}, headers=ops)
        assert acknowledged.status_code == 200
        timeline = acknowledged.json()["timeline"]
        assert next(e for e in timeline if e["kind"] == "declared")["via"] == "API key bootstrap"
        assert {e["via"] for e in timeline if e["kind"] == "acknowledged"} == {"API key ops-desk"}
        assert all(e["via"] is None for e in timeline if e["kind"] == "phase_changed")  # the workflow's own steps

        for _ in range(100):
            with sqlite3.connect(stack.data_dir / "crisis.db") as db:
                projected = db.execute(
                    "SELECT kind, actor, via FROM timeline_events WHERE incident_id = ? AND kind = 'acknowledged'", (incident,)
                ).fetchall()
            if projected:
                break
            await asyncio.sleep(0.1)
        assert projected and all(row[1:] == ("ewa.lewandowska", "API key ops-desk") for row in projected)

        page = await admin.get(f"/incidents/{incident}/view")
        assert "via API key ops-desk" in page.text and "via API key bootstrap" in page.text

        history = await temporal.get_workflow_handle(incident).fetch_history()
        arguments = [
            payload.data
            for event in history.events
            if event.HasField("workflow_execution_update_accepted_event_attributes")
            for payload in event.workflow_execution_update_accepted_event_attributes.accepted_request.input.args.payloads
        ]
        assert any(b'"via":"API key ops-desk"' in data for data in arguments)

        assert (await admin.post("/apikeys/ops-desk/revoke")).status_code == 200
        assert (await admin.get(f"/incidents/{incident}", headers=ops)).status_code == 401
