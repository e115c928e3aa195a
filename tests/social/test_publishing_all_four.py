"""One incident's holding statement, an update and the resolution, published by the real workflow
and activities through the real channels to all four targets at once: X and Mastodon (their SDKs
against Prism serving their specs), Bluesky (a real PDS) and Statuspage (the fake that checks its
documented shapes); then the replies read back into the incident's conversation."""

import asyncio
import json

from atproto import AsyncClient, AtUri

from channels.bluesky import BlueskyChannel
from channels.mastodon import MastodonChannel
from channels.statuspage import StatuspageChannel
from domain.actions import StatementDraft
from store import mentions as mention_store
from tests.driver import next_step
from tests.social.conftest import PAGE_ID, STATUSPAGE_KEY, TOKEN, bluesky_account, x_channel
from tests.workflow.harness import open_harness

COMMS_LEAD = "anna.kowalska"
TEXTS = {
    "holding": "Some of you cannot pay in the Northwind app. We are on it; next update within the hour.",
    "update": "Update: we found the cause of the failed payments and are rolling back. No card was charged twice.",
    "resolution": "Payments in the Northwind app work again. Thank you for your patience, and sorry for the trouble.",
}


async def drive(harness, handle) -> dict:
    """Acknowledge, assess, do the tasks and approve as a person would; give each statement our
    short text; ask for an update once the holding statement is out, and resolve after it."""
    for _ in range(400):
        state = await harness.state(handle)
        if state["status"] == "closed":
            return state
        published = [s["kind"] for s in state["statements"] if s["status"] == "published"]
        pending = {item["kind"]: item for item in state["pending"]}
        waiting = next((s for s in state["statements"] if s["status"] == "pending_approval"), None)
        if waiting is not None and waiting["text"] != TEXTS[waiting["kind"]]:
            await harness.act(handle, "submit_statement", StatementDraft(person=COMMS_LEAD, text=TEXTS[waiting["kind"]]))
            continue
        if published == ["holding"] and waiting is None and not any(s["status"] == "approved" for s in state["statements"]):
            await harness.act(handle, "submit_statement", StatementDraft(person=COMMS_LEAD, text=TEXTS["update"]))
            continue
        step = next_step(state)
        if step is None or (step.update == "resolve" and "update" not in published):
            await asyncio.sleep(0.05)
            continue
        if step.update == "resolve" and "resolve" not in pending:
            continue
        await harness.act(handle, step.update, step.update_input())
    raise AssertionError(f"the incident did not close: {state['phase']}, pending {state['pending']}")


async def test_holding_update_and_resolution_reach_all_four_and_the_replies_come_back(
    time_skipping_env, catalog, tmp_path, social_mocks, pds, statuspage
):
    did, app_password = await bluesky_account(pds, "northwind-all.test")
    targets = {
        "x": x_channel(social_mocks["x"]),
        "mastodon": MastodonChannel(social_mocks["mastodon"].url, TOKEN, timeout=30),
        "bluesky": BlueskyChannel(pds.url, "northwind-all.test", app_password, timeout=30),
        "statuspage": StatuspageChannel(STATUSPAGE_KEY, PAGE_ID, statuspage.api_url, timeout=10),
    }
    async with open_harness(time_skipping_env, catalog, tmp_path / "crisis.db", publishing=targets) as harness:
        plan = harness.plan("technical_outage")
        handle = await harness.start(plan)
        final = await drive(harness, handle)
        await handle.result()  # the state reads closed before the last read of the replies, which runs at the close
        async with harness.sessions() as session:
            replies = await mention_store.incident_replies(session, plan.id)
        history = await handle.fetch_history()

    published = [s for s in final["statements"] if s["status"] == "published"]
    assert [s["kind"] for s in published] == ["holding", "update", "resolution"]
    for statement in published:
        receipts = {r["channel"]: r for r in statement["receipts"]}
        assert set(receipts) == {"x", "mastodon", "bluesky", "statuspage", "outbox"}, receipts
        assert all(r["error"] is None for r in receipts.values()), receipts
        assert all(r["url"] for name, r in receipts.items() if name != "outbox")
        assert not statement["mismatch"]

    # Statuspage: one incident, opened by the holding statement, updated, resolved by the resolution.
    [incident] = statuspage.incidents.values()
    assert [u["body"] for u in reversed(incident["incident_updates"])] == [TEXTS["holding"], TEXTS["update"], TEXTS["resolution"]]
    assert incident["status"] == "resolved" and incident["name"] == "Service disruption" and statuspage.too_fast == 0

    # Bluesky: the three posts in the account's repository, exactly as approved, the later two replying to the first.
    reader = AsyncClient(pds.url)
    await reader.login("northwind-all.test", app_password, fetch_bsky_profile=False)
    posts = [{r["channel"]: r for r in s["receipts"]}["bluesky"]["provider_id"] for s in published]
    records = [
        await reader.com.atproto.repo.get_record(
            {"repo": did, "collection": "app.bsky.feed.post", "rkey": AtUri.from_str(uri).rkey}
        )
        for uri in posts
    ]
    assert [record.value.text for record in records] == [TEXTS["holding"], TEXTS["update"], TEXTS["resolution"]]
    assert records[0].value.reply is None
    assert all(record.value.reply.root.uri == posts[0] and record.value.reply.parent.uri == posts[0] for record in records[1:])

    # X and Mastodon: every post validated against the spec, the update and resolution as replies.
    from tests.social.test_contract_social import validated

    assert validated(social_mocks["x"], "POST", "/2/tweets")[-3:] == [True, True, True]
    assert validated(social_mocks["mastodon"], "POST", "/api/v1/statuses")[-3:] == [True, True, True]

    # The conversation under our posts is read at the close, for every post on the three networks.
    # (What comes back from the mocks is their specs' single example, which carries our own post's
    # id and account, so it is rightly left out here; tests/social/test_contract_social.py reads
    # replies from other accounts into the stream.)
    reads = [
        json.loads(e.activity_task_scheduled_event_attributes.input.payloads[0].data)
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
        and e.activity_task_scheduled_event_attributes.activity_type.name == "watch_replies"
    ]
    assert reads and {(p["version"], p["target"]) for p in reads[-1]["posts"]} == {
        (s["version"], target) for s in published for target in ("x", "mastodon", "bluesky")
    }
    assert all(row.incident_id == plan.id for row in replies)
