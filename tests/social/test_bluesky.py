"""The Bluesky channel against a real PDS (@atproto/pds with its PLC directory, started by the
tests): posts, replies in a thread with a proper reply reference, the posts read back from the
account's repository, and a wrong password refused for good."""

import pytest
from atproto import AsyncClient, AtUri

from channels.base import ChannelKind, OutgoingMessage, PermanentDeliveryError, PublicPost
from channels.bluesky import BlueskyChannel
from tests.social.conftest import bluesky_account

HOLDING = "Some of you cannot pay in the app. We are on it; next update by 15:30 UTC. https://status.northwind.example/i/7"


def statement(kind: str, body: str, thread: str | None = None) -> OutgoingMessage:
    return OutgoingMessage(
        ledger_key=f"inc-b/publish.{kind}/public/bluesky",
        incident_id="inc-b",
        person_id=None,
        kind=f"statement.{kind}",
        channel=ChannelKind.PUBLIC,
        subject="internal",
        body=body,
        post=PublicPost(statement=kind, thread=thread),
    )


async def test_statements_are_posted_as_one_thread_and_read_back(pds):
    did, app_password = await bluesky_account(pds, "northwind.test")
    channel = BlueskyChannel(pds.url, "northwind.test", app_password, timeout=30)

    first = await channel.send(statement("holding", HOLDING))
    update = await channel.send(statement("update", "Payments work again for most of you.", thread=first.provider_id))

    assert AtUri.from_str(first.provider_id).host == did
    assert first.url == f"https://bsky.app/profile/{did}/post/{AtUri.from_str(first.provider_id).rkey}"
    assert await channel.read_back(first.provider_id) == HOLDING  # exactly the approved text

    reader = AsyncClient(pds.url)
    await reader.login("northwind.test", app_password, fetch_bsky_profile=False)
    record = await reader.com.atproto.repo.get_record(
        {"repo": did, "collection": "app.bsky.feed.post", "rkey": AtUri.from_str(update.provider_id).rkey}
    )
    assert record.value.reply.root.uri == first.provider_id and record.value.reply.parent.uri == first.provider_id
    holding = await reader.com.atproto.repo.get_record(
        {"repo": did, "collection": "app.bsky.feed.post", "rkey": AtUri.from_str(first.provider_id).rkey}
    )
    assert record.value.reply.root.cid == holding.cid
    [link] = holding.value.facets
    assert link.features[0].uri == "https://status.northwind.example/i/7"


async def test_a_wrong_app_password_is_refused_for_good(pds):
    await bluesky_account(pds, "wrongpass.test")
    with pytest.raises(PermanentDeliveryError, match="bluesky answered 401"):
        await BlueskyChannel(pds.url, "wrongpass.test", "not-the-password", timeout=30).send(
            statement("holding", "We are on it.")
        )


async def test_a_statement_over_300_graphemes_never_reaches_the_pds(pds):
    channel = BlueskyChannel(pds.url, "nobody.test", "unused", timeout=30)
    with pytest.raises(PermanentDeliveryError, match="not cut"):
        await channel.send(statement("holding", "ą" * 301))


async def test_replies_and_quotes_come_back_from_the_appview_without_our_own(pds):
    """The PDS hands app.bsky.feed.getPostThread and getQuotes to the AppView, which indexed the
    PDS's firehose: what people answered reaches the channel as the listening stream takes it."""
    import asyncio

    from atproto import models

    _, app_password = await bluesky_account(pds, "northwind-replies.test")
    channel = BlueskyChannel(pds.url, "northwind-replies.test", app_password, timeout=30)
    first = await channel.send(statement("holding", "Some of you cannot pay in the app. We are on it."))
    await channel.send(statement("update", "Payments work again for most of you.", thread=first.provider_id))

    crowd_did, crowd_password = await bluesky_account(pds, "angry-customer.test")
    crowd = AsyncClient(pds.url)
    await crowd.login("angry-customer.test", crowd_password, fetch_bsky_profile=False)
    ours = await crowd.com.atproto.repo.get_record(
        {
            "repo": AtUri.from_str(first.provider_id).host,
            "collection": "app.bsky.feed.post",
            "rkey": AtUri.from_str(first.provider_id).rkey,
        }
    )
    ref = models.ComAtprotoRepoStrongRef.Main(uri=ours.uri, cid=ours.cid)
    reply = await crowd.send_post(
        "This is terrible, I was charged twice!",
        profile_identify=crowd_did,
        reply_to=models.AppBskyFeedPost.ReplyRef(root=ref, parent=ref),
    )
    quote = await crowd.send_post(
        "Look at this non-answer.", profile_identify=crowd_did, embed=models.AppBskyEmbedRecord.Main(record=ref)
    )

    found = []
    for _ in range(200):  # the AppView indexes the firehose beside the PDS: poll for the effect
        found = await channel.replies(first.provider_id)
        if len(found) == 2:
            break
        await asyncio.sleep(0.1)
    by_id = {item.id: item for item in found}
    assert set(by_id) == {reply.uri, quote.uri}  # our own update in the thread is left out
    assert by_id[reply.uri].text == "This is terrible, I was charged twice!" and not by_id[reply.uri].quote
    assert by_id[quote.uri].quote and by_id[quote.uri].author == "@angry-customer.test"
    assert by_id[reply.uri].url == f"https://bsky.app/profile/{crowd_did}/post/{AtUri.from_str(reply.uri).rkey}"
    assert by_id[reply.uri].posted_at is not None
