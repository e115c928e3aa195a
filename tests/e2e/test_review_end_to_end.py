"""The review on the real dev server: feedback by single-use link, the report (HTML with its SVG
chart, Markdown), the reports across incidents with CSV, and the report page in Chromium."""

import asyncio
import csv
import io
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlparse

import httpx
import pytest

from tests.driver import next_step

pytestmark = pytest.mark.e2e


async def drive_to_review(client: httpx.AsyncClient, incident_id: str, max_seconds: float = 120) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_seconds
    while loop.time() < deadline:
        state = (await client.get(f"/incidents/{incident_id}")).raise_for_status().json()
        if state["phase"] == "review" and state["feedback_requested"]:
            return state
        step = next_step(state)
        if step is None or step.update == "submit_review":
            await asyncio.sleep(0.1)
            continue
        response = await client.post(f"/incidents/{incident_id}/{step.path}", json=step.body)
        assert response.status_code == 200, (step, response.text)
    raise AssertionError(f"no review in time; phase {state['phase']}")


async def feedback_links(client: httpx.AsyncClient, incident_id: str) -> dict[str, str]:
    messages = (await client.get("/outbox", params={"incident": incident_id})).json()
    return {
        m["person_id"]: urlparse(next(link["url"] for link in m["links"] if "/a/" in link["url"])).path
        for m in messages
        if m["kind"] == "feedback"
    }


REVIEW = {
    "person": "ewa.lewandowska",
    "summary": "Ordering was down 40 minutes.",
    "went_well": ["Fast page"],
    "went_badly": ["No canary"],
    "action_items": [
        {
            "title": "Canary deploys for checkout",
            "owner": "engineering_on_call",
            "due": "2026-12-15",
            "playbook_section": "respond.tasks.confirm_scope",
        }
    ],
}


@pytest.fixture(scope="module")
def reviewed(stack):
    """One technical outage driven to its review, with feedback links in the outbox."""

    async def build():
        async with stack.async_client() as client:
            declared = (
                await client.post(
                    "/incidents", json={"playbook": "technical_outage", "title": "Checkout down", "summary": "Orders fail."}
                )
            ).json()
            state = await drive_to_review(client, declared["id"])
            given = await client.post(
                f"/incidents/{declared['id']}/feedback",
                json={"person": "ewa.lewandowska", "rating": 4, "went_well": "Clear roles"},
            )
            assert given.status_code == 200, given.text
            return declared["id"], state, await feedback_links(client, declared["id"])

    return asyncio.run(build())


async def test_feedback_link_form_bad_ratings_and_a_second_use(stack, reviewed):
    incident_id, state, links = reviewed
    person, path = next((p, link) for p, link in links.items() if p != "ewa.lewandowska")
    async with stack.async_client() as client:
        shown = await client.get(path)
        assert shown.status_code == 200 and 'name="rating"' in shown.text and "Checkout down" in shown.text
        for rating in ("0", "6", "", "x"):
            refused = await client.post(path, data={"rating": rating, "went_well": "Kept"})
            assert refused.status_code == 422 and "rating: choose a rating from 1 to 5" in refused.text
            assert "Kept" in refused.text  # what they wrote is not lost
        api_refused = await client.post(f"/incidents/{incident_id}/feedback", json={"person": person, "rating": 6})
        assert api_refused.status_code == 422 and "rating" in api_refused.text
        before = (await client.get(f"/incidents/{incident_id}")).json()["feedback"]
        assert [f["person"] for f in before] == ["ewa.lewandowska"]

        done = await client.post(path, data={"rating": "4", "went_well": "Quick page", "went_badly": "Slow approval"})
        assert done.status_code == 200 and f"Feedback from {person}: 4/5" in done.text
        again = await client.post(path, data={"rating": "1"})
        assert again.status_code == 410 and "already used" in again.text
        assert (await client.get(path)).status_code == 410
        feedback = (await client.get(f"/incidents/{incident_id}")).json()["feedback"]
        assert [(f["person"], f["rating"]) for f in feedback] == [("ewa.lewandowska", 4), (person, 4)]


async def test_after_the_review_links_say_closed_and_the_report_has_everything(stack, reviewed, page):
    incident_id, state, links = reviewed
    async with stack.async_client() as client:
        given = len((await client.get(f"/incidents/{incident_id}")).json()["feedback"])
        submitted = await client.post(f"/incidents/{incident_id}/review", json=REVIEW)
        assert submitted.status_code == 200, submitted.text
        for _ in range(100):
            if (await client.get(f"/incidents/{incident_id}")).json()["status"] == "closed":
                break
            await asyncio.sleep(0.1)
        unused = links["ewa.lewandowska"]
        closed_get, closed_post = await client.get(unused), await client.post(unused, data={"rating": "5"})
        assert closed_get.status_code == closed_post.status_code == 410
        assert "review is closed" in closed_get.text and "Nothing was changed" in closed_post.text
        assert len((await client.get(f"/incidents/{incident_id}")).json()["feedback"]) == given

        markdown = await client.get(f"/incidents/{incident_id}/report", params={"format": "md"})
        assert markdown.status_code == 200 and markdown.headers["content-type"].startswith("text/markdown")
        assert "# Post-incident report: Checkout down" in markdown.text and "| time to acknowledge |" in markdown.text
        # every text people or playbooks wrote is Markdown-escaped (#16.11); the escapes render as the plain words
        assert (
            r"| Canary deploys for checkout | engineering\_on\_call | 2026-12-15 | respond.tasks.confirm\_scope |"
            in markdown.text
        )
        assert "### v1 holding: published" in markdown.text and "mean rating 4.0/5" in markdown.text
        assert (await client.get("/incidents/inc-nope/report", params={"format": "md"})).status_code == 404

        for _ in range(100):  # the closing projection lands in the read model
            exported = await client.get("/reports", params={"format": "csv", "rows": "incident"})
            by_id = {row["incident_id"]: row for row in csv.DictReader(io.StringIO(exported.text))}
            if by_id.get(incident_id, {}).get("closed_at"):
                break
            await asyncio.sleep(0.1)
        assert exported.headers["content-type"].startswith("text/csv")
        assert float(by_id[incident_id]["time_to_first_statement_s"]) > 0 and by_id[incident_id]["feedback_mean"] == "4.0"
        monthly = list(csv.DictReader(io.StringIO((await client.get("/reports", params={"format": "csv"})).text)))
        assert any(row["scenario"] == "technical_outage" and int(row["incidents"]) >= 1 for row in monthly)
        assert (await client.get("/reports", params={"severity": "SEV9"})).status_code == 422

    await stack.sign_in(page)
    await page.goto(f"{stack.url}/incidents/{incident_id}/report")
    assert "Post-incident report: Checkout down" in await page.locator("h1").inner_text()
    chart = page.locator("#timeline-chart")
    assert await chart.count() == 1 and await chart.locator(".phase-band").count() == 6
    assert await chart.locator(".milestone").count() >= 4 and await chart.locator(".deadline-met").count() >= 1
    box = await chart.bounding_box()
    assert box["width"] > 300 and box["height"] > 50
    metrics = await page.locator("#metrics-table").inner_text()
    assert "time to acknowledge" in metrics and "time to first statement" in metrics and "time to resolve" in metrics
    assert "met" in metrics
    assert "Canary deploys for checkout" in await page.locator("#action-items").inner_text()
    assert "4" in await page.locator("#feedback-mean").inner_text()
    assert re.fullmatch(r"Score: \d+ of \d+ deadlines met \(\d+%\)", await page.locator("#score").inner_text())

    await page.goto(f"{stack.url}/reports")
    assert await page.locator("#chart-time_to_acknowledge circle").count() >= 1
    assert "technical_outage" in await page.locator("#aggregates-table").inner_text()


async def test_time_to_detect_comes_from_the_declared_first_mention(stack):
    body = {"playbook": "misinformation", "title": "Rumour spreading", "summary": "A fake recall notice."}
    async with stack.async_client() as client:
        for bad, reason in (("2999-01-01T00:00:00Z", "cannot be in the future"), ("2026-11-30T10:00:00", "timezone")):
            refused = await client.post("/incidents", json={**body, "detected_at": bad})
            assert refused.status_code == 422 and "detected_at" in refused.text and reason in refused.text
        first_mention = datetime.now(timezone.utc) - timedelta(minutes=25)
        declared = await client.post("/incidents", json={**body, "detected_at": first_mention.isoformat()})
        assert declared.status_code == 201, declared.text
        report = (await client.get(f"/incidents/{declared.json()['id']}/report", params={"format": "md"})).text
        assert re.search(r"\| time to detect \| 25 min( \d+ s)? \|", report), report
