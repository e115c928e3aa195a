"""Signing in from the browser, in Debian's headless Chromium: the key is entered once, the pages
then read, and the pages work under their Content-Security-Policy (styled, nothing refused)."""

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


async def test_a_person_signs_in_reads_the_pages_and_signs_out(stack, page):
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)

    await page.goto(f"{stack.url}/risks/view")
    assert page.url == f"{stack.url}/login?next=%2Frisks%2Fview"
    await page.locator("#key").fill("cf_not-a-key-000000000000000000000000")
    await page.locator("#login button").click()
    assert "not valid" in await page.locator("#message").inner_text()

    await page.locator("#key").fill(stack.key)
    await page.locator("#login button").click()
    await page.wait_for_url(f"{stack.url}/risks/view")
    assert await page.locator("h1").inner_text() == "Risks and readiness"
    cookie = next(c for c in await page.context.cookies() if c["name"] == "crisis_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert await page.evaluate("document.cookie") == ""  # no script can read the key
    header = await page.locator("header").evaluate("element => getComputedStyle(element).backgroundColor")
    assert header == "rgb(29, 35, 48)"  # the stylesheet applies under the policy

    await page.locator("#sign-out").click()
    await page.wait_for_url(f"{stack.url}/login")
    await page.goto(f"{stack.url}/")
    assert page.url.startswith(f"{stack.url}/login")
    assert refused == []
