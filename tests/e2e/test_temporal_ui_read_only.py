"""The Temporal UI of ``crisis dev`` is for auditing: what it shows is everything, what it takes
is nothing. A write through its HTTP API (the Update that forged an acknowledgement, a signal, a
termination, a start) is refused and changes nothing; reads and queries pass; and the UI itself
shows its write actions disabled."""

import base64
import json

import httpx
import pytest

from devstack import UI_REFUSAL

pytestmark = pytest.mark.e2e

COMMANDER = "ewa.lewandowska"


def _payloads(*values) -> dict:
    encoding = base64.b64encode(b"json/plain").decode()
    return {
        "payloads": [
            {"metadata": {"encoding": encoding}, "data": base64.b64encode(json.dumps(value).encode()).decode()}
            for value in values
        ]
    }


def test_writes_through_the_temporal_ui_are_refused_and_change_nothing(stack):
    with stack.client() as http:
        incident = http.post(
            "/incidents", json={"playbook": "misinformation", "title": "Fake recall", "summary": "A rumour."}
        ).json()["id"]
    with httpx.Client(base_url=f"http://127.0.0.1:{stack.ui_port}", timeout=30) as ui:
        assert ui.get("/").status_code == 200  # and the UI's double-submit CSRF cookie, which a browser would send
        csrf = {"X-CSRF-TOKEN": ui.cookies["_csrf"]}
        workflow = f"/api/v1/namespaces/default/workflows/{incident}"
        forged = {"person": COMMANDER, "via": "API key bootstrap"}
        writes = {
            "update": (
                f"{workflow}/update/acknowledge",
                {
                    "workflowExecution": {"workflowId": incident},
                    "request": {"meta": {"updateId": "forged-ack"}, "input": {"name": "acknowledge", "args": _payloads(forged)}},
                    "waitPolicy": {"lifecycleStage": "UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED"},
                },
            ),
            "signal": (f"{workflow}/signal/delivery_failed", {"input": _payloads({})}),
            "terminate": (f"{workflow}/terminate", {"reason": "forged"}),
            "cancel": (f"{workflow}/cancel", {}),
            "start": (
                "/api/v1/namespaces/default/workflows/inc-forged",
                {"workflowType": {"name": "IncidentWorkflow"}, "taskQueue": {"name": "crisisflow"}},
            ),
        }
        for name, (path, body) in writes.items():
            refused = ui.post(path, json=body, headers=csrf)
            assert refused.status_code == 403, (name, refused.status_code, refused.text[:300])
            assert refused.json()["message"] == UI_REFUSAL
        assert ui.delete("/api/v1/namespaces/default/schedules/any", headers=csrf).status_code == 403

        # Reads pass, queries too: the UI's history, metadata and stack trace use them.
        assert ui.get(workflow).json()["workflowExecutionInfo"]["status"] == "WORKFLOW_EXECUTION_STATUS_RUNNING"
        assert ui.post(f"{workflow}/query/state", json={"query": {"queryType": "state"}}, headers=csrf).status_code == 200
        settings = ui.get("/api/v1/settings").json()
        assert settings["DisableWriteActions"] is True and settings["WorkflowUpdateDisabled"] is True

    with stack.client() as http:
        assert http.get(f"/incidents/{incident}").json()["phase"] == "identify"  # nobody acknowledged
        assert http.post(f"/incidents/{incident}/acknowledge", json={"person": COMMANDER}).json()["phase"] == "assess"


async def test_the_temporal_ui_shows_its_write_actions_disabled(stack, page):
    with stack.client() as http:
        incident = http.post(
            "/incidents", json={"playbook": "misinformation", "title": "Rumour to audit", "summary": "A rumour."}
        ).json()["id"]
    refused = []
    page.on("response", lambda response: refused.append(response.url) if response.status >= 400 else None)
    await page.goto(f"http://127.0.0.1:{stack.ui_port}/namespaces/default/workflows/{incident}")
    cancel = page.get_by_role("button", name="Request Cancellation")
    await cancel.wait_for(timeout=60_000)
    assert await cancel.is_disabled()
    assert await page.get_by_role("button", name="More Actions").is_disabled()
    await page.get_by_text("Rumour to audit").first.wait_for(timeout=30_000)  # the incident's summary: the reads went through
    assert not refused
