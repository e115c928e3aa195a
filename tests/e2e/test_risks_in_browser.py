"""The risk register page (server-rendered SVG heat map and readiness checklist) and the answers kit
on the incident page, in a real headless Chromium (Debian's package), against the dev stack."""

from urllib.parse import urlparse

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
    assert "10 of 10 risks ready" in await page.locator("#summary").inner_text()


async def test_the_risks_link_in_the_header_opens_the_register(stack, page):
    await stack.sign_in(page)
    await page.goto(f"{stack.url}/")
    await page.locator("header a", has_text="Risks").click()
    await page.wait_for_url("**/risks/view")
    assert await page.locator("h1").inner_text() == "Risks and readiness"


async def test_the_incident_page_shows_the_playbooks_answers_kit_in_english_and_polish(stack, page):
    with stack.client() as api:
        declared = api.post(
            "/incidents", json={"playbook": "misinformation", "title": "Contamination rumour", "summary": "A false claim spreads.", "drill": True},
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
    assert "Is it true what people are saying about your products?" in english
    assert "Czy to prawda, co ludzie mówią o waszych produktach?" in polish
