"""What the networks count, what is refused rather than cut, and how long a rate limit asks us to wait."""

import pytest

from channels.base import ChannelKind, OutgoingMessage, PermanentDeliveryError, TransientDeliveryError
from channels.bluesky import BlueskyChannel, link_facets, post_url
from channels.mastodon import MastodonChannel, plain
from channels.social import graphemes, mastodon_length, refusal, refuse_over_limit, retry_after, x_length
from channels.x import XChannel

NOW = 1_800_000_000.0


def statement(body: str) -> OutgoingMessage:
    return OutgoingMessage(
        ledger_key="inc/publish.v1/public/x",
        incident_id="inc",
        person_id=None,
        kind="statement.holding",
        channel=ChannelKind.PUBLIC,
        subject="s",
        body=body,
    )


def test_x_counts_links_as_23_and_wide_characters_as_2():
    assert x_length("a" * 280) == 280
    assert x_length("Read more: https://status.northwind.example/incidents/very/long/path/2026") == len("Read more: ") + 23
    assert x_length("障害") == 4
    assert x_length("zażółć") == 6  # Latin letters with diacritics are 1 each


def test_mastodon_counts_links_as_23():
    assert mastodon_length("see https://" + "x" * 100) == 4 + 23


def test_bluesky_counts_graphemes():
    assert graphemes("e\u0301") == 1  # e + combining acute
    assert graphemes("👍🏽") == 1  # with a skin tone
    assert graphemes("👩\u200d💻 ok") == 4
    assert graphemes("abc") == 3


def test_a_statement_over_the_limit_is_refused_not_cut():
    x = XChannel("token", "http://127.0.0.1:9")
    refuse_over_limit(x, statement("a" * 280))
    with pytest.raises(PermanentDeliveryError, match="281 characters, over the 280 x takes; not cut"):
        refuse_over_limit(x, statement("a" * 281))
    bluesky = BlueskyChannel("http://127.0.0.1:9", "northwind.test", "pw")
    with pytest.raises(PermanentDeliveryError, match="over the 300 bluesky takes"):
        refuse_over_limit(bluesky, statement("a" * 301))
    mastodon = MastodonChannel("http://127.0.0.1:9", "token", limit=500)
    refuse_over_limit(mastodon, statement("a" * 500))


async def test_x_refuses_a_long_statement_without_calling_x():
    # Port 9 (discard) answers nothing: a call would fail as transient, not be refused for good.
    with pytest.raises(PermanentDeliveryError, match="not cut"):
        await XChannel("token", "http://127.0.0.1:9", timeout=1).send(statement("a" * 300))


def test_retry_after_follows_what_the_provider_says():
    assert retry_after({"Retry-After": "7"}, NOW) == 7
    assert retry_after({"x-rate-limit-reset": str(int(NOW + 120))}, NOW) == 120  # X: epoch seconds
    assert retry_after({"ratelimit-reset": str(int(NOW + 30))}, NOW) == 30  # Bluesky
    assert retry_after({"X-RateLimit-Reset": "2027-01-15T08:00:10Z"}, 1_799_999_990 + 0.0) is not None  # Mastodon: ISO time
    assert retry_after({}, NOW) is None
    assert retry_after({"Retry-After": "86400"}, NOW) == 15 * 60  # never longer than X's window
    assert retry_after({"x-rate-limit-reset": str(int(NOW - 5))}, NOW) == 1  # already past: soon


def test_refusals_say_which_are_final():
    assert isinstance(refusal("x", 401, "Unauthorized"), PermanentDeliveryError)
    assert "credentials" in refusal("x", 403, "Forbidden").reason
    limited = refusal("x", 429, "Too Many Requests", {"x-rate-limit-reset": "9999999999"})
    assert isinstance(limited, TransientDeliveryError) and limited.retry_after == 15 * 60
    assert isinstance(refusal("mastodon", 503, ""), TransientDeliveryError)
    assert isinstance(refusal("mastodon", 422, "Validation failed: Text character limit of 500 exceeded"), PermanentDeliveryError)


def test_bluesky_links_get_facets_with_byte_offsets():
    [facet] = link_facets("Zażółć: https://status.northwind.example/i/7 now")
    assert facet.index.byte_start == len("Zażółć: ".encode()) and facet.features[0].uri == "https://status.northwind.example/i/7"
    assert link_facets("no links") is None
    assert post_url("at://did:plc:abc/app.bsky.feed.post/3k2") == "https://bsky.app/profile/did:plc:abc/post/3k2"


def test_mastodon_html_becomes_text():
    assert plain('<p>Is it <a href="#">down</a>?</p><p>Still &amp; again</p>') == "Is it down?\n\nStill & again"
