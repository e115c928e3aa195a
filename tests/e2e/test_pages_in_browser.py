"""The dashboard and the incident page in a real headless Chromium (Debian's package)."""

import re

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


async def test_dashboard_lists_the_incident_and_links_to_its_page(stack, page):
    with stack.client() as api:
        declared = api.post(
            "/incidents",
            json={
                "playbook": "customer_backlash",
                "title": "Price rise backlash",
                "summary": "Thousands of angry replies.",
                "drill": True,
            },
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
    assert "Acknowledge the page as Incident commander" in await row.inner_text()
    temporal_link = row.locator("a", has_text="workflow")
    assert (await temporal_link.get_attribute("href")).endswith(f"/namespaces/default/workflows/{declared['id']}")

    await row.get_by_role("link", name="Price rise backlash", exact=True).click()
    await page.wait_for_url(f"**/incidents/{declared['id']}/view")
    assert await page.locator("h1").inner_text() == "Price rise backlash DRILL"
    pending = await page.locator("#pending").inner_text()
    assert "Acknowledge the page as Incident commander" in pending
    assert "Incident declared (drill)" in await page.locator("#timeline").inner_text()


async def test_unknown_incident_page_is_a_clear_404(stack, page):
    await stack.sign_in(page)
    response = await page.goto(f"{stack.url}/incidents/inc-nope/view")
    assert response.status == 404
    assert "No such incident" in await page.locator("h1").inner_text()


async def test_the_commander_changes_the_severity_from_the_incident_page(stack, page):
    with stack.client() as api:
        declared = api.post(
            "/incidents", json={"playbook": "technical_outage", "title": "Checkout down", "summary": "Orders fail."}
        ).json()
        url = f"/incidents/{declared['id']}"
        api.post(f"{url}/acknowledge", json={"person": "ewa.lewandowska"})
        for _ in range(100):
            if api.get(url).json()["phase"] == "assess":
                break
            await page.wait_for_timeout(100)
        assert api.post(f"{url}/assessment", json={"person": "ewa.lewandowska", "severity": "SEV3"}).status_code == 200
    await stack.sign_in(page)
    await page.goto(f"{stack.url}{url}/view")
    form = page.locator("form#severity")
    await form.locator("select[name='severity']").select_option("SEV1")
    await form.locator("select[name='person']").select_option("anna.kowalska")  # not a commander
    await form.locator("input[name='reason']").fill("Stores cannot take cards either.")
    await form.locator("button").click()
    assert "cannot change the severity" in await page.locator("form#severity").inner_text()
    await form.locator("select[name='severity']").select_option("SEV1")
    await form.locator("select[name='person']").select_option("ewa.lewandowska")
    await form.locator("input[name='reason']").fill("Stores cannot take cards either.")
    await form.locator("button").click()
    await page.wait_for_url(
        re.compile(rf"{re.escape(url)}/view\?me=ewa\.lewandowska#severity$")
    )  # back to the form, as the person who acted
    assert (
        "Severity raised from SEV3 to SEV1 by ewa.lewandowska: Stores cannot take cards either."
        in await page.locator("#timeline").inner_text()
    )
    assert "now SEV1" in await page.locator("form#severity").inner_text()
