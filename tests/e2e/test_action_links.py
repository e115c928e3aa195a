"""Acknowledging through the single-use link in a page: GET shows, POST acts, once."""

import asyncio
import sqlite3
import uuid
from urllib.parse import urlparse

import httpx
import pytest

pytestmark = pytest.mark.e2e


async def _declare_and_get_page_link(client: httpx.AsyncClient, person: str = "ewa.lewandowska") -> tuple[str, str]:
    incident = (
        await client.post("/incidents", json={"playbook": "technical_outage", "title": "Link test", "summary": "Testing links."})
    ).json()
    for _ in range(100):
        messages = (await client.get("/outbox", params={"incident": incident["id"]})).json()
        pages = [m for m in messages if m["kind"] == "page" and m["person_id"] == person and m["channel"] == "email"]
        projected = any(
            row["id"] == incident["id"] for row in (await client.get("/incidents")).json()
        )  # the page shows its title
        if pages and projected:
            link = next(link["url"] for link in pages[0]["links"] if "/a/" in link["url"])
            return incident["id"], urlparse(link).path
        await asyncio.sleep(0.1)
    raise AssertionError("no page reached the outbox")


async def test_get_shows_and_changes_nothing_post_acknowledges_once(stack):
    async with stack.async_client() as client:
        incident_id, path = await _declare_and_get_page_link(client)
        shown = await client.get(path)
        assert shown.status_code == 200 and "Acknowledge" in shown.text and "Link test" in shown.text
        assert (await client.get(path)).status_code == 200
        state = (await client.get(f"/incidents/{incident_id}")).json()
        assert state["phase"] == "identify"

        async with httpx.AsyncClient(base_url=stack.url, timeout=30) as person:  # no key: the link is the credential
            done = await person.post(path)
        assert done.status_code == 200 and "ewa.lewandowska acknowledged as incident_commander" in done.text
        state = (await client.get(f"/incidents/{incident_id}")).json()
        assert state["phase"] == "assess"
        assert {e["via"] for e in state["timeline"] if e["kind"] == "acknowledged"} == {"email link"}

        again = await client.post(path)
        assert again.status_code == 410 and "already used" in again.text
        assert (await client.get(path)).status_code == 410


async def test_a_link_opened_before_the_incident_is_projected_shows_it_from_the_workflow(stack):
    """A page can reach someone before the incident's first projection lands in the read model."""
    async with stack.async_client() as client:
        incident_id, path = await _declare_and_get_page_link(client)
        with sqlite3.connect(stack.data_dir / "crisis.db") as db:
            db.execute("DELETE FROM incidents WHERE id = ?", (incident_id,))
        shown = await client.get(path)
        assert shown.status_code == 200 and "Link test" in shown.text and "identify" in shown.text


async def test_double_click_acknowledges_once(stack):
    async with stack.async_client() as client:
        incident_id, path = await _declare_and_get_page_link(client)
        first, second = await asyncio.gather(client.post(path), client.post(path))
        assert {first.status_code, second.status_code} <= {200, 410}
        state = (await client.get(f"/incidents/{incident_id}")).json()
        acknowledged = [e for e in state["timeline"] if e["kind"] == "acknowledged" and e["actor"] == "ewa.lewandowska"]
        assert len(acknowledged) == 2  # once per role she holds (incident_commander, comms_lead), not twice per role
        assert {e["data"]["role"] for e in acknowledged} == {"incident_commander", "comms_lead"}


async def test_forged_and_expired_links_change_nothing(stack):
    async with stack.async_client() as client:
        forged = await client.post("/a/" + "x" * 43)
        assert forged.status_code == 403 and "not valid" in forged.text
        incident_id, path = await _declare_and_get_page_link(client)
        with sqlite3.connect(stack.data_dir / "crisis.db") as db:
            db.execute("UPDATE action_tokens SET expires_at = '2000-01-01 00:00:00.000000' WHERE incident_id = ?", (incident_id,))
        expired = await client.post(path)
        assert expired.status_code == 410 and "expired" in expired.text
        state = (await client.get(f"/incidents/{incident_id}")).json()
        assert state["phase"] == "identify"


async def test_page_sms_fits_one_segment_with_code_and_link(stack):
    async with stack.async_client() as client:
        incident_id, path = await _declare_and_get_page_link(client)
        messages = (await client.get("/outbox", params={"incident": incident_id})).json()
        sms = [m for m in messages if m["kind"] == "page" and m["channel"] == "sms"]
        assert sms and all(len(m["body"]) <= 160 and m["body"].isascii() for m in sms)
        assert all("Reply ACK " in m["body"] and "/a/" in m["body"] for m in sms)


async def test_a_non_admin_key_reads_no_live_link_and_a_link_used_with_a_key_names_it(stack):
    """An ingest key once read the outbox's links and acknowledged as the commander, and the
    timeline said only "via email link"."""
    async with stack.async_client() as client:
        made = (await client.post("/apikeys", json={"name": f"listener-{uuid.uuid4().hex[:6]}", "scopes": ["ingest"]})).json()
        ingest = {"Authorization": f"Bearer {made['key']}"}
        incident_id, path = await _declare_and_get_page_link(client)
        seen = await client.get("/outbox", params={"incident": incident_id}, headers=ingest)
        assert seen.status_code == 200 and seen.json() and path not in seen.text and "/a/[redacted" in seen.text

        used = await client.post(path, headers=ingest)
        assert used.status_code == 200
        state = (await client.get(f"/incidents/{incident_id}")).json()
        assert {e["via"] for e in state["timeline"] if e["kind"] == "acknowledged"} == {f"email link, API key {made['name']}"}
        for _ in range(100):  # the read model's timeline says the same
            page = await client.get(f"/incidents/{incident_id}/view")
            if f"email link, API key {made['name']}" in page.text:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the incident page does not name the key")
