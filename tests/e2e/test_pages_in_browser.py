"""The dashboard and the incident page in a real headless Chromium (Debian's package)."""

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

async def test_dashboard_lists_the_incident_and_links_to_its_page(stack, page):
    with stack.client() as api:
        declared = api.post(
            "/incidents", json={"playbook": "customer_backlash", "title": "Price rise backlash", "summary": "Thousands of angry replies.", "drill": True},
        ).json()
    await stack.sign_in(page)
    for _ in range(50):
        await page.goto(f"{stack.url}/")
        row = page.locator(f"li[data-incident='{declared['id']}']")
        if await row.count():
            break
        await page.wait_for_timeout(100)
    assert await row.locator(".phase").inner_text() == "identify"
    assert "DRILL" in await row.inner_text()
    assert "Acknowledge the page as incident_commander" in await row.inner_text()
    temporal_link = row.locator("a", has_text="workflow")
    assert (await temporal_link.get_attribute("href")).endswith(f"/namespaces/default/workflows/{declared['id']}")

    await row.get_by_role("link", name="Price rise backlash", exact=True).click()
    await page.wait_for_url(f"**/incidents/{declared['id']}/view")
    assert await page.locator("h1").inner_text() == "Price rise backlash DRILL"
    pending = await page.locator("#pending").inner_text()
    assert "Acknowledge the page as incident_commander" in pending
    assert "Incident declared (drill)" in await page.locator("#timeline").inner_text()


async def test_unknown_incident_page_is_a_clear_404(stack, page):
    await stack.sign_in(page)
    response = await page.goto(f"{stack.url}/incidents/inc-nope/view")
    assert response.status == 404
    assert "No such incident" in await page.locator("h1").inner_text()
