"""Internal messages on the dev stack: the approval email's single-use link shows the message with
its internal mark and decides it, the API decides the rest, the approved message reaches the
audience's list by email, and bad input is answered with the field named."""

import asyncio
from urllib.parse import urlparse

import httpx
import pytest

from tests.driver import next_step

pytestmark = pytest.mark.e2e


async def _until_internal_approval(client: httpx.AsyncClient, incident_id: str) -> dict:
    for _ in range(600):
        state = (await client.get(f"/incidents/{incident_id}")).json()
        if any(p["kind"] == "internal_approval" and p["audience"] == "all_staff" for p in state["pending"]):
            return state
        step = next_step({**state, "pending": [p for p in state["pending"] if not p["kind"].startswith("internal")]})
        if step is None or step.update == "resolve":
            await asyncio.sleep(0.1)
            continue
        response = await client.post(f"/incidents/{incident_id}/{step.path}", json=step.body)
        assert response.status_code == 200, (step, response.text)
    raise AssertionError("no internal message to approve")


async def test_an_internal_message_is_approved_by_link_and_api_then_emailed_to_its_list(stack):
    async with stack.async_client() as client:
        incident = (
            await client.post(
                "/incidents",
                json={"playbook": "technical_outage", "title": "Checkout down", "summary": "Card payments fail in the app."},
            )
        ).json()
        state = await _until_internal_approval(client, incident["id"])
        approvers = [
            p["people"][0] for p in state["pending"] if p["kind"] == "internal_approval" and p["audience"] == "all_staff"
        ]
        by_link, by_api = approvers

        unknown = await client.post(
            f"/incidents/{incident['id']}/internal/press/versions/1/decision", json={"person": by_api, "decision": "approve"}
        )
        assert unknown.status_code == 422 and unknown.json()["detail"].startswith("audience: unknown internal audience 'press'")

        link = None
        for _ in range(100):
            mails = [
                m
                for m in (await client.get("/outbox", params={"incident": incident["id"]})).json()
                if m["kind"] == "internal_approval" and m["person_id"] == by_link and "All staff" in m["subject"]
            ]
            if mails:
                link = urlparse(next(item["url"] for item in mails[0]["links"] if "/a/" in item["url"])).path
                break
            await asyncio.sleep(0.1)
        assert link, "no approval email for the internal message"
        async with httpx.AsyncClient(base_url=stack.url, timeout=30) as person:  # the link is the credential
            shown = await person.get(link)
            assert shown.status_code == 200 and "INTERNAL – for All staff only." in shown.text and "Checkout down" in shown.text
            done = await person.post(link, data={"decision": "approve"}, headers={"Origin": "null"})
        assert done.status_code == 200 and f"approved by {by_link}" in done.text

        decided = await client.post(
            f"/incidents/{incident['id']}/internal/all_staff/versions/1/decision", json={"person": by_api, "decision": "approve"}
        )
        assert decided.status_code == 200
        for _ in range(100):
            sent = [
                m for m in (await client.get("/outbox", params={"incident": incident["id"]})).json() if m["kind"] == "internal"
            ]
            if sent:
                break
            await asyncio.sleep(0.1)
        assert [(m["subject"], m["person_id"]) for m in sent] == [("[INTERNAL] All staff: Checkout down", None)]
        assert sent[0]["body"].startswith("INTERNAL – for All staff only.")
        state = (await client.get(f"/incidents/{incident['id']}")).json()
        assert next(m for m in state["internal_messages"] if m["audience"] == "all_staff")["status"] == "sent"
        page = (await client.get(f"/incidents/{incident['id']}/view")).text
        assert 'id="internal"' in page and "All staff · v1 · sent to 1 address(es)" in page
