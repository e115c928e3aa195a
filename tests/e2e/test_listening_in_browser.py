"""Listening on the real stack: `crisis mentions import` feeds a surge, the dashboard shows the
suggested incident, a person confirms it in Chromium, and the incident page charts the conversation."""

import csv
import json
import subprocess

import httpx
import pytest

from tests.conftest import BIN
from tests.listening.streams import ANGRY, CALM, minutes_ago, post, stream

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def crisis(stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "crisis"), *args, "--url", stack.url], capture_output=True, text=True, timeout=120, env=stack.env
    )


async def test_an_imported_surge_is_confirmed_on_the_dashboard_and_charted(stack, page, tmp_path):
    from datetime import timedelta

    start = minutes_ago(60)
    spike_at = start + timedelta(minutes=30)
    mentions = sorted(
        stream(start, 30, 8, CALM, 500_000) + stream(spike_at, 5, 120, ANGRY, 510_000), key=lambda m: m["created_at"]
    )
    export = tmp_path / "export.jsonl"
    export.write_text("\n".join(json.dumps(m) for m in mentions) + "\n", encoding="utf-8")

    first = crisis(stack, "mentions", "import", str(export), "--batch", "250")
    assert first.returncode == 0, first.stderr
    assert f"{len(mentions):,} read, {len(mentions):,} stored, 0 duplicates skipped" in first.stdout
    again = crisis(stack, "mentions", "import", str(export))
    assert f"0 stored, {len(mentions):,} duplicates skipped" in again.stdout

    broken = tmp_path / "export.csv"
    with broken.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["platform", "external_id", "author", "text", "url", "created_at", "reach"])
        writer.writeheader()
        writer.writerow({**post(start, "Northwind from a CSV", 520_000), "reach": "12"})
        writer.writerow({**post(start, "Northwind from a CSV", 520_001), "created_at": "last tuesday"})
    refused = crisis(stack, "mentions", "import", str(broken))
    assert refused.returncode == 1 and f"{broken}:3: created_at" in refused.stderr, refused.stderr

    for _ in range(100):
        signals = httpx.get(
            f"{stack.url}/signals", params={"status": "suggested", "topic": "brand"}, headers=stack.headers
        ).json()
        if signals:
            break
        await page.wait_for_timeout(100)
    [signal] = signals

    await stack.sign_in(page)
    await page.goto(f"{stack.url}/")
    row = page.locator(f"[data-signal='{signal['id']}']")
    assert "volume" in await row.inner_text()
    await row.get_by_label("Who decides").select_option(label="Ewa Lewandowska")
    await row.locator("input[name=headline]").fill("Many of you are unhappy with our new menu")
    await row.locator("button[value=confirm]").click()
    await page.wait_for_url("**/incidents/inc-*/view")
    confirmed = httpx.get(f"{stack.url}/signals/{signal['id']}", headers=stack.headers).json()
    assert confirmed["status"] == "confirmed"
    incident = httpx.get(f"{stack.url}/incidents/{confirmed['incident_id']}", headers=stack.headers).json()
    assert incident["fact_sheet"]["headline"] == "Many of you are unhappy with our new menu"

    chart = page.locator("#conversation svg.conversation-chart")
    await chart.wait_for()
    box = await chart.bounding_box()
    assert box["width"] > 300 and box["height"] > 80
    bars = page.locator("#conversation rect.volume")
    assert await bars.count() >= 60
    assert await page.locator("#conversation polyline.negative-share").count() == 1
    assert "Reach so far" in await page.locator("#conversation").inner_text()

    incident = page.url.rsplit("/", 2)[-2]
    await page.goto(f"{stack.url}/incidents/{incident}/report")
    assert await page.locator("#conversation rect.volume").count() >= 60
    assert "Reach so far" in await page.locator("#conversation").inner_text()
    markdown = httpx.get(f"{stack.url}/incidents/{incident}/report", params={"format": "md"}, headers=stack.headers).text
    assert "## The conversation" in markdown and "total reach" in markdown
