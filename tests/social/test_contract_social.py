"""Contract tests: the official X SDK (``xdk``) and ``Mastodon.py``, driven through our channels,
against Stoplight Prism serving X's official OpenAPI description and the community description of
the Mastodon API (``tests/specs``). Prism checks every request (path, credentials, content type,
body against the schema) and answers 422 (or 4xx) for one that breaks the spec; each test reads
Prism's log to be sure the request was validated, not merely answered.
"""

import pytest

from channels.base import ChannelKind, OutgoingMessage, PermanentDeliveryError, PublicPost
from channels.mastodon import MastodonChannel
from tests.social.conftest import TOKEN, x_channel


def statement(
    body: str = "We know the app is down for some of you and are working on it. Next update by 15:30 UTC.",
    kind: str = "holding",
    thread: str | None = None,
) -> OutgoingMessage:
    return OutgoingMessage(
        ledger_key=f"inc-s/publish.v1/public/{kind}",
        incident_id="inc-s",
        person_id=None,
        kind=f"statement.{kind}",
        channel=ChannelKind.PUBLIC,
        subject="internal title — statement v1",
        body=body,
        post=PublicPost(statement=kind, thread=thread, severity="SEV2"),
    )


def validated(mock, method: str, path: str) -> list[bool]:
    """For each request Prism received for ``method path`` (in order), whether it passed the spec's
    validation rules: the verdict is the first VALIDATOR line after the request's arrival."""
    verdicts, waiting = [], False
    for line in mock.log.read_text(errors="replace").splitlines():
        if "[HTTP SERVER]" in line and "Request received" in line:
            waiting = f"{method.lower()} {path} " in line
        elif waiting and "[VALIDATOR]" in line:
            verdicts.append("passed the validation rules" in line)
            waiting = False
    return verdicts


# ---- X ------------------------------------------------------------------------------------------


async def test_a_post_on_x_matches_the_x_spec(social_mocks):
    x = social_mocks["x"]
    delivery = await x_channel(x).send(statement())
    assert delivery.accepted and delivery.provider_id, x.said()
    assert delivery.url == f"https://x.com/i/web/status/{delivery.provider_id}"
    assert validated(x, "POST", "/2/tweets")[-1] is True, x.said()


async def test_an_update_replying_on_x_matches_the_x_spec(social_mocks):
    x = social_mocks["x"]
    delivery = await x_channel(x).send(statement(kind="update", thread="1346889436626259968"))
    assert delivery.accepted, x.said()


async def test_the_mock_refuses_what_breaks_the_x_spec(social_mocks):
    # A reply to a post id that is not one (X's ids are 1 to 19 digits): the spec says no.
    x = social_mocks["x"]
    with pytest.raises(PermanentDeliveryError, match="x answered 422"):
        await x_channel(x).send(statement(kind="update", thread="not-a-post-id"))
    assert validated(x, "POST", "/2/tweets")[-1] is False


async def test_replies_are_read_from_x_by_conversation_id(social_mocks):
    x = social_mocks["x"]
    replies = await x_channel(x).replies("1346889436626259968")
    assert validated(x, "GET", "/2/tweets/search/recent") == [True], x.said()
    assert validated(x, "GET", "/2/tweets/1346889436626259968/quote_tweets") == [True], x.said()
    assert all(reply.id != "1346889436626259968" for reply in replies)


# ---- Mastodon -----------------------------------------------------------------------------------


def mastodon(mock) -> MastodonChannel:
    return MastodonChannel(mock.url, TOKEN, timeout=30)


async def test_a_post_on_mastodon_matches_the_mastodon_spec(social_mocks):
    mock = social_mocks["mastodon"]
    delivery = await mastodon(mock).send(statement())
    assert delivery.accepted and delivery.provider_id, mock.said()
    assert validated(mock, "POST", "/api/v1/statuses")[-1] is True, mock.said()


async def test_an_update_replying_on_mastodon_matches_the_mastodon_spec(social_mocks):
    mock = social_mocks["mastodon"]
    delivery = await mastodon(mock).send(statement(kind="update", thread="109372843234"))
    assert delivery.accepted, mock.said()


async def test_the_mock_refuses_what_breaks_the_mastodon_spec(social_mocks):
    mock = social_mocks["mastodon"]
    # A token-less request: the API wants OAuth 2.0 with write:statuses.
    with pytest.raises(PermanentDeliveryError, match="mastodon answered 401"):
        await MastodonChannel(mock.url, "", timeout=30).send(statement())
    assert validated(mock, "POST", "/api/v1/statuses")[-1] is False


async def test_replies_are_read_from_a_mastodon_context(social_mocks):
    mock = social_mocks["mastodon"]
    await mastodon(mock).replies("109372843234")
    assert validated(mock, "GET", "/api/v1/statuses/109372843234/context") == [True], mock.said()
    assert validated(mock, "GET", "/api/v1/notifications") == [True], mock.said()


# ---- the conversation under our posts -----------------------------------------------------------


async def test_replies_on_x_and_mastodon_flow_into_the_listening_stream_tied_to_their_statement(social_mocks, sessions, tmp_path):
    from temporalio.testing import ActivityEnvironment

    from activities.incident import IncidentActivities, RosterSource
    from activities.models import PublishedPost, RepliesRequest
    from channels.base import ChannelKind
    from channels.outbox import OutboxChannel
    from store import mentions as mention_store
    from tests.channels.conftest import PROJECT, PUBLIC_URL

    outbox = OutboxChannel(sessions)
    work = IncidentActivities(
        sessions,
        RosterSource(PROJECT / "playbooks"),
        {kind: outbox for kind in ChannelKind},
        PUBLIC_URL,
        publishing={"x": x_channel(social_mocks["x"]), "mastodon": mastodon(social_mocks["mastodon"]), "outbox": outbox},
    )
    request = RepliesRequest(
        incident_id="inc-talk",
        posts=[
            PublishedPost(version=1, target="x", post_id="1346889436626259968"),
            PublishedPost(version=2, target="mastodon", post_id="109372843234"),
            PublishedPost(version=1, target="outbox", post_id="7"),  # takes no replies: skipped
        ],
    )
    stored = await ActivityEnvironment().run(work.read_replies, request)
    async with sessions() as session:
        replies = await mention_store.incident_replies(session, "inc-talk")
        counts = await mention_store.replies_by_statement(session, "inc-talk")
    assert stored == len(replies) and replies, "the specs' example answers hold replies"
    assert {(row.platform, row.statement_version) for row in replies} <= {("x", 1), ("mastodon", 2)}
    assert all(row.incident_id == "inc-talk" and row.topic is None for row in replies)
    assert sum(count for count, _scored, _negative in counts.values()) == len(replies)
    # Read again (the next turn): the same replies are not stored twice.
    assert await ActivityEnvironment().run(work.read_replies, request) == 0
