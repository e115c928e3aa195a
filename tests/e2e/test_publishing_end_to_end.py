"""One incident published to all four targets on the real stack (``crisis dev``: the Temporal dev
server, the API and the worker), driven over HTTP: X and Mastodon through their SDKs to Prism
proxying loopback fakes of X and Mastodon (every request and answer validated against their specs,
the answers real data), Bluesky to a real PDS with the real AppView beside it, Statuspage to its
fake. The public answers under our posts on the three networks; the replies come back into the
incident's conversation (GET /incidents/{id}, the incident page's bar per statement) and their
negative surge raises a signal on the incident."""

import asyncio
import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import yaml
from atproto import AsyncClient, AtUri, models
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from tests.channels.test_contract import SPECS, prism_binary
from tests.driver import next_step
from tests.e2e.stack import DevStack, free_port, write_quick_playbooks
from tests.fakes.providers import Fault
from tests.fakes.social import FakeMastodon, FakeX
from tests.fakes.statuspage import FakeStatuspage
from tests.social.conftest import COMPONENTS, PAGE_ID, STATUSPAGE_KEY, TOKEN, bluesky_account, start_bluesky_network

pytestmark = pytest.mark.e2e

BRAND = "northwind-e2e.test"
TEXTS = {
    "holding": "Some of you cannot pay in the Northwind app. We are on it; next update within the hour.",
    "update": "Update: we found the cause of the failed payments and are rolling back. No card was charged twice.",
    "resolution": "Payments in the Northwind app work again. Thank you for your patience, and sorry for the trouble.",
}
ANGRY = "This is terrible, I was charged twice and nobody answers!"


def prism_proxy(spec: Path, upstream: str, log: Path) -> tuple[subprocess.Popen, str]:
    """Prism in front of a fake: requests and answers are checked against ``spec``; with
    ``--errors`` a request that breaks it is refused, never forwarded."""
    port = free_port()
    process = subprocess.Popen(
        [str(prism_binary()), "proxy", str(spec), upstream, "--host", "127.0.0.1", "--port", str(port), "--errors"],
        stdout=open(log, "wb"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while "Prism is listening" not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"prism proxy did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    return process, f"http://127.0.0.1:{port}"


def prism_verdicts(log: Path) -> tuple[int, int, list[str]]:
    """(requests received, requests forwarded, violations reported) in a Prism proxy's log."""
    text = log.read_text(errors="replace")
    lines = text.splitlines()
    violations = [
        line for line in lines if "Violation" in line or "[VALIDATOR]" in line and ("error" in line or "warning" in line)
    ]
    return text.count("Request received"), text.count("Forwarding"), violations


def quick_playbooks(folder: Path) -> Path:
    """The project's playbooks, technical_outage quick to drive and reading replies every two seconds."""
    write_quick_playbooks(folder, 30)
    path = folder / "technical_outage.yaml"
    book = yaml.safe_load(path.read_text())
    book["communicate"]["replies"] = {"read_every": "2s", "surge": {"within": "15m", "min_negative": 3, "negative_share": 0.6}}
    book["communicate"]["status_page"] = {"components": COMPONENTS}
    path.write_text(yaml.safe_dump(book, allow_unicode=True))
    return folder


async def answer_on_every_network(x: FakeX, mastodon: FakeMastodon, bluesky_reply, receipts: dict) -> None:
    """The public answers the holding statement: on X two replies and a quote, on Mastodon a reply,
    on Bluesky a reply (the angry ones make a surge: three or more negative within minutes)."""
    x.public_answer("angry_ann", ANGRY, reply_to=receipts["x"]["provider_id"])
    x.public_answer(
        "quoting_quinn", "Quoting this non-answer: terrible service, a disaster.", quote_of=receipts["x"]["provider_id"]
    )
    x.public_answer("kind_kim", "Thank you for the quick update, great work.", reply_to=receipts["x"]["provider_id"])
    mastodon.public_reply("mad_max", "Awful. I was charged twice, this is a disaster.", receipts["mastodon"]["provider_id"])
    await bluesky_reply(receipts["bluesky"]["provider_id"], "Terrible, still broken and nobody answers.")


async def test_one_incident_reaches_all_four_targets_and_the_replies_come_back(tmp_path, postgres):
    network = start_bluesky_network(tmp_path / "bsky", await postgres.create_database("bsky"))
    proxies: list[subprocess.Popen] = []
    try:
        did, app_password = await bluesky_account(network, BRAND)
        crowd_did, crowd_password = await bluesky_account(network, "angry-bea.test")
        crowd = AsyncClient(network.url)
        await crowd.login("angry-bea.test", crowd_password, fetch_bsky_profile=False)

        async def bluesky_reply(uri: str, text: str) -> None:
            at = AtUri.from_str(uri)
            ours = await crowd.com.atproto.repo.get_record({"repo": at.host, "collection": "app.bsky.feed.post", "rkey": at.rkey})
            ref = models.ComAtprotoRepoStrongRef.Main(uri=ours.uri, cid=ours.cid)
            await crowd.send_post(
                text, profile_identify=crowd_did, reply_to=models.AppBskyFeedPost.ReplyRef(root=ref, parent=ref)
            )

        with (
            FakeX(TOKEN) as x,
            FakeMastodon(TOKEN) as mastodon,
            FakeStatuspage(STATUSPAGE_KEY, PAGE_ID, COMPONENTS) as statuspage,
        ):
            x_proxy, x_url = prism_proxy(SPECS / "x_api_v2.json", x.url, tmp_path / "prism-x.log")
            proxies.append(x_proxy)
            mastodon_proxy, mastodon_url = prism_proxy(SPECS / "mastodon_api.json", mastodon.url, tmp_path / "prism-mastodon.log")
            proxies.append(mastodon_proxy)
            stack = DevStack(
                tmp_path / "data",
                {
                    "CRISIS_PLAYBOOKS_DIR": str(quick_playbooks(tmp_path / "playbooks")),
                    "X_ACCESS_TOKEN": TOKEN,
                    "X_API_URL": x_url,
                    "MASTODON_API_BASE_URL": mastodon_url,
                    "MASTODON_ACCESS_TOKEN": TOKEN,
                    "BLUESKY_PDS_URL": network.url,
                    "BLUESKY_HANDLE": BRAND,
                    "BLUESKY_APP_PASSWORD": app_password,
                    "STATUSPAGE_API_KEY": STATUSPAGE_KEY,
                    "STATUSPAGE_PAGE_ID": PAGE_ID,
                    "STATUSPAGE_API_URL": statuspage.api_url,
                },
            )
            stack.start()
            try:
                # X rate-limits our posts until the incident page has shown it (its reset in two seconds).
                x.inject(
                    Fault(
                        status=429,
                        times=10**6,
                        body={"code": 88, "message": "Rate limit exceeded"},
                        headers={"x-rate-limit-reset": str(int(time.time()) + 2)},
                    )
                )
                seen_retrying: list[str] = []

                async def watch_the_page(api: httpx.AsyncClient, incident: str) -> None:
                    if seen_retrying:
                        return
                    page = (await api.get(f"/incidents/{incident}/view")).text
                    if "retrying (attempt" in page:
                        seen_retrying.append(page)
                        x.clear_faults()

                async with stack.async_client() as api:
                    declared = await api.post(
                        "/incidents",
                        json={
                            "playbook": "technical_outage",
                            "title": "Payments fail in the app",
                            "summary": "Card payments time out.",
                            "severity": "SEV2",
                        },
                    )
                    assert declared.status_code == 201, declared.text
                    incident = declared.json()["id"]
                    await drive(
                        api,
                        incident,
                        lambda receipts: answer_on_every_network(x, mastodon, bluesky_reply, receipts),
                        watch_the_page,
                    )
                    temporal = await Client.connect(stack.temporal_address, data_converter=pydantic_data_converter)
                    await temporal.get_workflow_handle(incident).result()  # the last read of the replies runs at the close
                    final = (await api.get(f"/incidents/{incident}")).raise_for_status().json()
                    page = (await api.get(f"/incidents/{incident}/view")).text
                    report = (await api.get(f"/incidents/{incident}/report", params={"format": "md"})).text
                    report_page = (await api.get(f"/incidents/{incident}/report")).text
                    signals = (await api.get("/signals", params={"status": "raised"})).json()
                    outbox = (await api.get("/outbox", params={"incident": incident})).json()
                    seen_in_browser = await look_in_chromium(stack, incident)
                    bluesky_posts = []
                    for statement in final["statements"]:
                        receipt = next((r for r in statement["receipts"] if r["channel"] == "bluesky"), None)
                        if receipt is not None:
                            at = AtUri.from_str(receipt["provider_id"])
                            bluesky_posts.append(
                                await crowd.com.atproto.repo.get_record(
                                    {"repo": at.host, "collection": "app.bsky.feed.post", "rkey": at.rkey}
                                )
                            )
            finally:
                stack.stop()
            x_log, mastodon_log = tmp_path / "prism-x.log", tmp_path / "prism-mastodon.log"
    finally:
        for process in proxies:
            process.terminate()
            process.wait(timeout=10)
        network.stop()

    # X's rate limit held up X alone: the page showed it being retried with X's answer, the others published.
    [retrying] = seen_retrying
    assert re.search(r"<td>x</td><td>retrying \(attempt \d+\): (transient: )?x answered 429", retrying), retrying
    assert len([r for r in x.requests if r.method == "POST" and r.status == 429]) >= 1

    published = [s for s in final["statements"] if s["status"] == "published"]
    assert [s["kind"] for s in published] == ["holding", "update", "resolution"]
    assert [s["text"] for s in published] == [TEXTS["holding"], TEXTS["update"], TEXTS["resolution"]]
    receipts = [{r["channel"]: r for r in s["receipts"]} for s in published]
    for by_channel in receipts:
        assert {"x", "mastodon", "bluesky", "statuspage", "outbox"} <= set(by_channel), by_channel
        assert all(
            by_channel[name]["error"] is None and by_channel[name]["url"] for name in ("x", "mastodon", "bluesky", "statuspage")
        )

    # X and Mastodon: three posts each, exactly as approved, the later two answering the first; every
    # request Prism received passed the spec and was forwarded, and no answer broke it either.
    first_x = receipts[0]["x"]["provider_id"]
    assert [t["text"] for t in x.ours()] == list(TEXTS.values())
    assert [(t.get("referenced_tweets") or [{}])[0].get("id") for t in x.ours()] == [None, first_x, first_x]
    first_toot = receipts[0]["mastodon"]["provider_id"]
    assert [s["in_reply_to_id"] for s in mastodon.ours()] == [None, first_toot, first_toot]
    for log in (x_log, mastodon_log):
        received, forwarded, violations = prism_verdicts(log)
        assert received and received == forwarded and not violations, (log.name, violations)
    # Statuspage: opened by the holding statement, updated, resolved.
    [opened] = statuspage.incidents.values()
    assert opened["status"] == "resolved" and len(opened["incident_updates"]) == 3 and statuspage.too_fast == 0
    # Bluesky: the three posts exactly as approved, the update and the resolution replying to the first.
    first_skeet = receipts[0]["bluesky"]["provider_id"]
    assert [record.value.text for record in bluesky_posts] == list(TEXTS.values())
    assert bluesky_posts[0].value.reply is None
    assert all(record.value.reply.root.uri == first_skeet == record.value.reply.parent.uri for record in bluesky_posts[1:])

    # The replies: under the holding statement, from all three networks, in GET /incidents/{id}.
    holding = published[0]["replies"]
    assert holding is not None and holding["replies"] == 5 and holding["negative"] >= 3, holding
    assert {r["platform"] for r in holding["latest"]} == {"x", "mastodon", "bluesky"}
    assert {r["author"] for r in holding["latest"]} >= {"@angry_ann", "@quoting_quinn", "@mad_max", "@angry-bea.test"}
    assert holding["surge"] is not None and holding["surge"]["signal"] == f"sig-replies-{incident}-v{published[0]['version']}"
    assert any(s["id"] == holding["surge"]["signal"] and s["incident_id"] == incident for s in signals)
    assert any(e["kind"] == "reply_surge" for e in final["timeline"])
    [told] = [m for m in outbox if m["kind"] == "reply_surge"]  # the comms lead on duty, by email
    assert told["channel"] == "email" and re.search(
        rf"\b\d of \d replies to statement v{published[0]['version']} are negative", told["body"]
    ), told
    # The incident page and the report: the receipts per channel, the bar of the holding statement's replies and the surge.
    chart = f'class="replies-chart" data-version="{published[0]["version"]}"'
    assert chart in page and "Surge of negative replies" in page and chart in report_page
    for by_channel in receipts:
        assert all(
            by_channel[name]["url"] in page and by_channel[name]["url"] in report_page
            for name in ("x", "mastodon", "bluesky", "statuspage")
        )
        assert all(f"- {name}: <{by_channel[name]['url']}>" in report for name in ("x", "mastodon", "bluesky", "statuspage"))
    assert "Replies and quotes: 5, 80% negative. **Surge of negative replies**" in report
    for width, charts in seen_in_browser.items():
        bar = charts[str(published[0]["version"])]
        assert bar["counts"] == {"negative": 4, "other": 1} and bar["width"] > 0, (width, bar)
        assert bar["label"].startswith(f"Statement v{published[0]['version']}: 5 replies and quotes, 4 negative"), bar


async def look_in_chromium(stack: DevStack, incident: str) -> dict[int, dict]:
    """The incident page in Chromium on a phone and a desktop: axe finds nothing serious, nothing
    scrolls sideways, and each statement's replies bar is drawn (what it counts, by kind)."""
    from playwright.async_api import async_playwright

    from tests.e2e.axe import page_facts, violations
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS

    assert CHROMIUM is not None, "chromium is not installed; `make test` installs Debian's chromium package"
    seen = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        for width in (390, 1280):
            context = await browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
            page = await context.new_page()
            await stack.sign_in(page)
            await page.goto(f"{stack.url}/incidents/{incident}/view")
            assert await violations(page) == [], width
            assert not (await page_facts(page))["sideways"], f"the incident page scrolls sideways at {width} px"
            seen[
                width
            ] = await page.evaluate("""() => Object.fromEntries(Array.from(document.querySelectorAll('svg.replies-chart')).map(
                svg => [svg.dataset.version, {label: svg.getAttribute('aria-label'), width: svg.getBoundingClientRect().width,
                        counts: Object.fromEntries(Array.from(svg.querySelectorAll('rect')).map(
                            r => [r.getAttribute('class'), Number(r.dataset.count)]))}]))""")
            await context.close()
        await browser.close()
    return seen


async def drive(api: httpx.AsyncClient, incident: str, answer, look, max_seconds: float = 300) -> None:
    """Act as people would, giving each statement our text: once the holding statement is out, the
    public answers on the networks, an update is drafted, and the incident is resolved after it.
    ``look(api, incident)`` looks at the incident page at every turn."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_seconds
    answered = False
    while loop.time() < deadline:
        await look(api, incident)
        state = (await api.get(f"/incidents/{incident}")).raise_for_status().json()
        if state["status"] == "closed":
            return
        statements = state["statements"]
        published = [s for s in statements if s["status"] == "published"]
        waiting = next((s for s in statements if s["status"] == "pending_approval"), None)
        if waiting is not None and waiting["text"] != TEXTS[waiting["kind"]]:
            response = await api.post(
                f"/incidents/{incident}/statements", json={"person": "anna.kowalska", "text": TEXTS[waiting["kind"]]}
            )
            assert response.status_code == 200, response.text
            continue
        if published and not answered:
            await answer({r["channel"]: r for r in published[0]["receipts"]})
            answered = True
        kinds = [s["kind"] for s in published]
        if kinds == ["holding"] and waiting is None and not any(s["status"] == "approved" for s in statements):
            response = await api.post(
                f"/incidents/{incident}/statements", json={"person": "anna.kowalska", "text": TEXTS["update"]}
            )
            assert response.status_code == 200, response.text
            continue
        step = next_step(state)
        if (
            step is None
            or (step.update == "resolve" and "update" not in kinds)
            or (step.update == "resolve" and not replies_read(state))
        ):
            await asyncio.sleep(0.2)
            continue
        response = await api.post(f"/incidents/{incident}/{step.path}", json=step.body)
        assert response.status_code == 200, (step, response.text)
    raise AssertionError(f"not closed in time; pending {state['pending']}")


def replies_read(state: dict) -> bool:
    """The holding statement's replies were read from all three networks while the incident was open."""
    holding = next(s for s in state["statements"] if s["status"] == "published")
    replies = holding.get("replies") or {}
    return {r["platform"] for r in replies.get("latest", [])} == {"x", "mastodon", "bluesky"}
