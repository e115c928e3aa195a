"""Approving a statement from the emailed link, in a real headless Chromium."""

import asyncio
from urllib.parse import urlparse

import httpx
import pytest

from tests.driver import next_step

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


async def _to_approval(client: httpx.AsyncClient) -> dict:
    incident = (
        await client.post(
            "/incidents", json={"playbook": "misinformation", "title": "Fake recall", "summary": "A fake recall notice spreads."}
        )
    ).json()
    for _ in range(300):
        state = (await client.get(f"/incidents/{incident['id']}")).json()
        if any(p["kind"] == "approval" for p in state["pending"]):
            return state
        step = next_step(state)
        if step and step.update not in ("resolve", "decide_statement"):
            await client.post(f"/incidents/{incident['id']}/{step.path}", json=step.body)
        else:
            await asyncio.sleep(0.1)
    raise AssertionError("never reached approval")


async def _approval_link(client, incident_id: str, person: str, version: int) -> str:
    for _ in range(100):
        mails = [
            m
            for m in (await client.get("/outbox", params={"incident": incident_id})).json()
            if m["kind"] == "approval" and m["person_id"] == person and m["channel"] == "email" and f"v{version}" in m["subject"]
        ]
        if mails:
            return urlparse(next(link["url"] for link in mails[0]["links"] if "/a/" in link["url"])).path
        await asyncio.sleep(0.1)
    raise AssertionError(f"no approval email for {person}")


async def _fits_a_phone(page) -> None:
    """#18.6: no sideways scrolling at 390 px, text of 16 px at least, big buttons, no navigation."""
    facts = await page.evaluate("""() => ({
        sideways: document.documentElement.scrollWidth > document.documentElement.clientWidth,
        smallest: Math.min(...Array.from(
            document.querySelectorAll('main p, main li, main pre, main label, main button, main textarea'))
            .map(e => parseFloat(getComputedStyle(e).fontSize))),
        buttons: Array.from(document.querySelectorAll('main button')).map(b => b.getBoundingClientRect().height),
        nav: document.querySelectorAll('nav, header').length,
    })""")
    assert not facts["sideways"] and facts["smallest"] >= 16 and facts["nav"] == 0, facts
    assert min(facts["buttons"]) >= 44, facts


async def test_approve_and_request_changes_from_the_emailed_links(stack, page):
    async with stack.async_client() as client:
        state = await _to_approval(client)
        incident_id = state["id"]
        first, second = [p for p in state["pending"] if p["kind"] == "approval"][:2]
        approve_path = await _approval_link(client, incident_id, first["people"][0], first["version"])

        scanned = await client.get(approve_path)  # a mail scanner's GET
        assert scanned.status_code == 200
        assert (await client.get(f"/incidents/{incident_id}")).json()["statements"][-1]["decisions"] == []

        await page.set_viewport_size({"width": 390, "height": 844})  # approvers mostly read on a phone
        await page.goto(f"{stack.url}{approve_path}")
        assert "Fake recall" in await page.locator("h1").inner_text()
        await _fits_a_phone(page)
        assert state["statements"][-1]["text"].splitlines()[0] in await page.locator("#statement").inner_text()
        assert "None yet." in await page.locator("#decisions").inner_text()
        await page.locator("#approve button").click()
        await page.wait_for_load_state()
        result = await page.locator("#message").inner_text()
        assert "approved by" in result and "Next: it still needs approval from" in result, (
            result
        )  # the result says what happens next
        assert await page.locator("header nav").count() == 0

        reject_path = await _approval_link(client, incident_id, second["people"][0], second["version"])
        await stack.sign_in(page)  # the second approver's browser is signed in: the timeline names its key
        await page.goto(f"{stack.url}{reject_path}")
        assert first["people"][0] in await page.locator("#decisions").inner_text()
        await page.locator("#comment").fill("Name the official recall register as the source.")
        await page.locator("#reject button").click()
        await page.wait_for_load_state()
        result = await page.locator("#message").inner_text()
        assert "Changes requested" in result and "you will get a new link for the revised version" in result, result

        state = (await client.get(f"/incidents/{incident_id}")).json()
        assert state["statements"][-1]["status"] == "rejected"
        decided = {
            event["kind"]: event["via"]
            for event in state["timeline"]
            if event["kind"] in ("statement_approved_by", "statement_rejected")
        }
        assert decided == {"statement_approved_by": "email link", "statement_rejected": "email link, API key bootstrap"}
        draft = next(p for p in state["pending"] if p["kind"] == "statement_draft")
        revised = state["statements"][-1]["text"] + "\nSource: the official recall register."
        short = next(v["text"] for v in state["statements"][-1]["variants"] if v["channel"] == "x")
        response = await client.post(
            f"/incidents/{incident_id}/statements", json={"person": draft["people"][0], "text": revised, "short": short}
        )
        assert response.status_code == 200, response.text
        state = (await client.get(f"/incidents/{incident_id}")).json()
        new_version = state["statements"][-1]["version"]
        assert "+Source: the official recall register." in state["statements"][-1]["diff"]

        new_path = await _approval_link(client, incident_id, first["people"][0], new_version)
        await page.goto(f"{stack.url}{new_path}")
        assert (
            await page.locator("#diff ins").inner_text() == "Source: the official recall register."
        )  # the word diff, highlighted
        assert "Name the official recall register as the source." in await page.locator("#previous-comments").inner_text()
        await _fits_a_phone(page)

        old = await client.post(approve_path, data={"decision": "approve"})
        assert old.status_code == 410
