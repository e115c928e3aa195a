"""The dashboard and the incident page in a real headless Chromium (Debian's package)."""

import shutil

import httpx
import pytest
from playwright.async_api import async_playwright

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = shutil.which("chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
async def page():
    if CHROMIUM is None:
        pytest.fail("chromium is not installed; `make test` installs Debian's chromium package")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield await browser.new_page()
        await browser.close()


async def test_dashboard_lists_the_incident_and_links_to_its_page(stack, page):
    declared = httpx.post(
        f"{stack.url}/incidents",
        json={"playbook": "customer_backlash", "title": "Price rise backlash", "summary": "Thousands of angry replies.", "drill": True},
    ).json()
    for _ in range(50):
        await page.goto(f"{stack.url}/")
        row = page.locator(f"tr[data-incident='{declared['id']}']")
        if await row.count():
            break
        await page.wait_for_timeout(100)
    assert await row.locator(".phase").inner_text() == "identify"
    assert "DRILL" in await row.inner_text()
    assert "Acknowledge the page as incident_commander" in await row.inner_text()
    temporal_link = row.locator("a", has_text="workflow")
    assert (await temporal_link.get_attribute("href")).endswith(f"/namespaces/default/workflows/{declared['id']}")

    await row.locator("a", has_text="Price rise backlash").click()
    await page.wait_for_url(f"**/incidents/{declared['id']}/view")
    assert await page.locator("h1").inner_text() == "Price rise backlash DRILL"
    pending = await page.locator("#pending").inner_text()
    assert "Acknowledge the page as incident_commander" in pending
    assert "Incident declared (drill)" in await page.locator("#timeline").inner_text()


async def test_unknown_incident_page_is_a_clear_404(stack, page):
    response = await page.goto(f"{stack.url}/incidents/inc-nope/view")
    assert response.status == 404
    assert "No such incident" in await page.locator("h1").inner_text()
