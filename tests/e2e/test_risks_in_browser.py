"""The risk register page (server-rendered SVG heat map and readiness checklist) and the answers kit
on the incident page, in a real headless Chromium (Debian's package), against the dev stack."""

from urllib.parse import urlparse

import httpx
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


async def test_the_heat_map_places_every_risk_in_its_cell_and_links_to_its_checklist(stack, page):
    with stack.client() as api:
        register = api.get("/risks").json()
    assert register["total"] == len(register["risks"]) >= 10
    await stack.sign_in(page)
    hosts = set()
    page.on("request", lambda request: hosts.add(urlparse(request.url).netloc))

    response = await page.goto(f"{stack.url}/risks/view")
    assert response.status == 200
    assert hosts == {urlparse(stack.url).netloc}  # no CDN, no script: the SVG comes from the server

    heat_map = page.locator("svg#heatmap")
    assert await heat_map.is_visible()
    box = await heat_map.bounding_box()
    assert box["width"] > 400 and box["height"] > 400
    assert await heat_map.locator("g.cell").count() == 25
    assert await heat_map.locator("g.cell[data-likelihood='5'][data-impact='5']").get_attribute("data-band") == "critical"
    assert await heat_map.locator("g.cell[data-likelihood='1'][data-impact='1']").get_attribute("data-band") == "low"

    assert await heat_map.locator("g.marker").count() == len(register["risks"])
    for risk in register["risks"]:
        cell = heat_map.locator(f"g.cell[data-likelihood='{risk['likelihood']}'][data-impact='{risk['impact']}']")
        marker = cell.locator(f"g.marker[data-risk='{risk['id']}']")
        assert await marker.count() == 1, risk["id"]
        assert await marker.get_attribute("data-ready") == str(risk["ready"]).lower()
        assert await cell.get_attribute("data-band") == risk["band"]

    rows = page.locator("#checklist tbody tr")
    assert await rows.count() == len(register["risks"])
    top = register["risks"][0]
    assert await rows.first.get_attribute("data-risk") == top["id"]

    await heat_map.locator(f"g.marker[data-risk='{top['id']}']").click()
    await page.wait_for_url(f"**/risks/view#risk-{top['id']}")
    row = page.locator(f"tr#risk-{top['id']}")
    assert await row.is_visible()
    text = await row.inner_text()
    assert top["title"] in text and f"{top['likelihood']} × {top['impact']} = {top['priority']}" in text
    assert "never drilled" in await row.locator("li[data-check='drill']").inner_text()
    assert await row.locator("li.check-pass[data-check='escalation']").count() == 1
    assert "0 of 11 risks ready" in await page.locator("#summary").inner_text()  # none was drilled


async def test_the_risks_link_in_the_header_opens_the_register(stack, page):
    await stack.sign_in(page)
    await page.goto(f"{stack.url}/")
    await page.locator("header a", has_text="Risks").click()
    await page.wait_for_url("**/risks/view")
    assert await page.locator("h1").inner_text() == "Risks and readiness"


async def test_the_incident_page_shows_the_incidents_answers_kit_and_an_answer_approved_from_the_emailed_link(stack, page):
    with stack.client() as api:
        declared = api.post(
            "/incidents",
            json={
                "playbook": "misinformation",
                "title": "Contamination rumour",
                "summary": "A false claim spreads.",
                "drill": True,
            },
        ).json()
    await stack.sign_in(page)
    for _ in range(50):
        response = await page.goto(f"{stack.url}/incidents/{declared['id']}/view")
        if response.status == 200:
            break
        await page.wait_for_timeout(100)
    answers = page.locator("#answers")
    assert await answers.locator(".answers-language").count() == 2
    english = await answers.locator("[data-language='en']").inner_text()
    polish = await answers.locator("[data-language='pl']").inner_text()
    assert "Is it true what people are saying about your products?" in english and "v1 from the playbook" in english
    assert "Czy to prawda, co ludzie mówią o waszych produktach?" in polish
    held = page.locator("#answers-in-use dd[data-answer='is_it_true']")
    assert await held.get_attribute("data-held") == "verify_facts"
    assert (
        "Held: do not use yet. Waiting for the task 'Verify the facts with the owning team' (not started)"
        in await held.inner_text()
    )

    incident = f"{stack.url}/incidents/{declared['id']}"
    httpx.post(f"{incident}/acknowledge", json={"person": "ewa.lewandowska"}, headers=stack.headers).raise_for_status()
    edited = "No. Independent lab tests found nothing wrong; the results are on our website."
    refused = httpx.post(
        f"{incident}/answers/is_it_true", json={"person": "anna.kowalska", "text": edited}, headers=stack.headers
    )
    assert refused.status_code == 409 and "answer 'is_it_true' is held" in refused.text
    httpx.post(
        f"{incident}/assessment", json={"person": "ewa.lewandowska", "severity": "SEV2"}, headers=stack.headers
    ).raise_for_status()
    for _ in range(100):
        if any(t["id"] == "verify_facts" for t in httpx.get(incident, headers=stack.headers).json()["tasks"]):
            break
        await page.wait_for_timeout(100)
    httpx.post(
        f"{incident}/tasks/verify_facts/complete", json={"person": "ewa.lewandowska"}, headers=stack.headers
    ).raise_for_status()
    proposed = httpx.post(
        f"{incident}/answers/is_it_true", json={"person": "anna.kowalska", "text": edited}, headers=stack.headers
    ).json()
    approvers = [(p["people"][0], p["role"]) for p in proposed["pending"] if p["kind"] == "answer_approval"]
    assert [role for _, role in approvers] == ["legal", "executive_sponsor"]
    (by_link, _), (by_api, _) = approvers
    link = None
    for _ in range(100):
        mails = [
            m
            for m in httpx.get(f"{stack.url}/outbox", params={"incident": declared["id"]}, headers=stack.headers).json()
            if m["kind"] == "answer_approval" and m["person_id"] == by_link
        ]
        if mails:
            link = next(link["url"] for link in mails[0]["links"] if "/a/" in link["url"])
            break
        await page.wait_for_timeout(100)
    assert link, "no answer approval email"
    await page.goto(f"{stack.url}{urlparse(link).path}")
    assert await page.locator("#answer").inner_text() == edited
    assert "+No. Independent lab tests" in await page.locator("#diff").inner_text()
    assert "None yet." in await page.locator("#decisions").inner_text()
    await page.locator("#approve button").click()
    await page.wait_for_load_state()
    assert f"approved by {by_link} (legal)" in await page.locator("#message").inner_text()
    httpx.post(
        f"{incident}/answers/is_it_true/versions/2/decision",
        json={"person": by_api, "decision": "approve"},
        headers=stack.headers,
    ).raise_for_status()
    pending_text = "We are checking; the statement has the latest."
    httpx.post(
        f"{incident}/answers/proof", json={"person": "anna.kowalska", "text": pending_text}, headers=stack.headers
    ).raise_for_status()

    await page.goto(f"{incident}/view")
    approved = page.locator("#answers-in-use dd[data-answer='is_it_true']")
    assert await approved.get_attribute("data-source") == "incident"
    assert await approved.locator(".answer-text").inner_text() == edited
    assert await approved.locator(".answer-mark").inner_text() == f"v2 approved for this incident by {by_link}, {by_api}"
    proposal = page.locator("#answers-in-use dd[data-answer='proof'] .answer-proposal")
    assert await proposal.get_attribute("data-status") == "pending_approval"
    assert "v2 proposed by anna.kowalska, awaiting approval" in await proposal.inner_text()
    assert pending_text in await proposal.inner_text()
    assert await page.locator("#answers-in-use dd[data-answer='proof']").get_attribute("data-source") == "playbook"
    assert "the playbook's kit, not adapted" in await answers.locator("[data-language='pl']").inner_text()
    assert "Approve answer 'proof' v2 as Legal" in await page.locator("#pending").inner_text()  # roles by their names
    assert "Answer 'is_it_true' v2 approved by every approver role" in await page.locator("#timeline").inner_text()
