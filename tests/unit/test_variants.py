"""Channel variants: each channel's counter and limit, the set's hash, and what approvers read."""

import pytest

from domain.variants import (
    CHANNELS,
    Channel,
    Form,
    build_variants,
    describe,
    find,
    graphemes,
    mastodon_length,
    problems,
    set_sha256,
    sms_encoding,
    sms_segments,
    threads_length,
    urls,
    variant,
    x_weighted_length,
)

LONG_URL = "https://status.northwind.example.com/incidents/2026-12-06/checkout-and-loyalty?utm_source=x"


# ---- X: twitter-text v3 weighting -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "weighted"),
    [
        ("Hello", 5),
        ("Zażółć gęślą jaźń", 17),  # Latin Extended: 1 each
        ("Привет", 6),  # Cyrillic: 1 each
        ("Hello 世界", 10),  # CJK: 2 each
        ("こんにちは", 10),
        ("Thanks 👍", 9),  # an emoji: 2
        ("👍🏽", 2),  # with a skin tone: one emoji
        ("🇵🇱", 2),  # a flag: one emoji
        ("👨‍👩‍👧", 2),  # a ZWJ family: one emoji
        ("a – b", 5),  # en dash: general punctuation weighing 1
        ("wait…", 6),  # the ellipsis is outside the light ranges: 2
        ("e\u0301", 1),  # NFC first: é is one code point
    ],
)
def test_x_weighs_text_like_twitter_text(text: str, weighted: int):
    assert x_weighted_length(text) == weighted


def test_x_counts_any_link_as_23_whatever_its_length():
    assert x_weighted_length(LONG_URL) == 23
    assert x_weighted_length(f"See {LONG_URL}.") == 4 + 23 + 1  # the full stop is not part of the link
    assert x_weighted_length("Details: status.example.com") == 9 + 23  # a bare domain is a link too
    assert x_weighted_length("https://a.co") == 23  # shorter links count 23 as well
    assert urls(f"Go to {LONG_URL}, then example.pl/faq!") == [LONG_URL, "example.pl/faq"]


def test_x_limit_is_280_weighted():
    assert variant(Channel.X, "a" * 280).fits
    over = variant(Channel.X, "界" * 141)
    assert (over.length, over.limit) == (282, 280)
    assert over.problems() == ["x: 282 weighted characters, over the limit of 280"]


# ---- Bluesky, Mastodon, Threads --------------------------------------------------------------


def test_bluesky_counts_graphemes():
    assert len(graphemes("👍🏽🇵🇱e\u0301a")) == 4
    assert variant(Channel.BLUESKY, "👍🏽" * 300).fits  # 300 graphemes, many more code points
    assert variant(Channel.BLUESKY, "a" * 301).problems() == ["bluesky: 301 graphemes, over the limit of 300"]


def test_mastodon_counts_graphemes_and_links_as_23():
    assert mastodon_length(f"Status: {LONG_URL}") == 8 + 23
    assert mastodon_length("👍🏽 ok") == 4
    assert CHANNELS[Channel.MASTODON].limit == 500


def test_threads_counts_an_emoji_as_its_utf8_bytes():
    assert threads_length("ok") == 2
    assert threads_length("👍") == 4
    assert threads_length("żółw") == 4  # letters are characters, whatever their bytes
    assert variant(Channel.THREADS, "👍" * 126).problems() == ["threads: 504 characters, over the limit of 500"]


# ---- SMS segments ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # an extension character takes two septets
        ("€" * 81, "GSM-7", 2),
        ("ą" * 70, "UCS-2", 1),  # one Polish letter makes the whole message UCS-2
        ("ą" * 71, "UCS-2", 2),
        ("a" * 134 + "ł", "UCS-2", 3),  # 135 units: 67 a segment
        ("Zamówienia – bez zmian", "UCS-2", 1),  # the en dash is not GSM-7 either
        ("", "GSM-7", 0),
    ],
)
def test_sms_segments_follow_the_encoding(text: str, encoding: str, segments: int):
    assert (sms_encoding(text), sms_segments(text)) == (encoding, segments)


def test_sms_takes_at_most_five_segments():
    assert variant(Channel.SMS, "a" * 765).fits
    assert variant(Channel.SMS, "ą" * 335).fits
    assert variant(Channel.SMS, "ą" * 336).problems() == ["sms: 6 segments, over the limit of 5"]


# ---- the set -----------------------------------------------------------------------------------


FORMS = {
    Form.TITLE: "Our app is not taking orders",
    Form.SHORT: "Our app is down. Updates: status.example.com",
    Form.LONG: "Our app is down.\n\nWe are on it.",
}


def test_every_channel_gets_its_form_and_titles_go_where_there_is_one():
    variants = build_variants(FORMS)
    assert [v.channel for v in variants] == list(CHANNELS)
    for item in variants:
        assert item.text == FORMS[CHANNELS[item.channel].form]
    assert {v.channel for v in variants if v.title} == {Channel.STATUS_PAGE, Channel.EMAIL}
    email = find(variants, "email")
    assert (email.title, email.title_length, email.title_limit) == ("Our app is not taking orders", 28, 120)
    assert problems(variants) == []


def test_a_variant_over_its_limit_or_without_a_title_names_the_channel_and_numbers():
    variants = build_variants({Form.TITLE: "T" * 121, Form.SHORT: "界" * 200, Form.LONG: "ok"})
    assert problems(variants) == [
        "x: 400 weighted characters, over the limit of 280",
        "status_page: title of 121 characters, over the limit of 120",
        "email: title of 121 characters, over the limit of 120",
    ]
    assert "email: needs a title" in problems(build_variants({Form.TITLE: "", Form.SHORT: "a", Form.LONG: "b"}))


def test_the_set_hash_covers_every_channel_title_and_text():
    variants = build_variants(FORMS)
    same = build_variants(dict(FORMS))
    assert set_sha256(variants) == set_sha256(same)
    other_title = build_variants({**FORMS, Form.TITLE: "Our app is down"})
    other_short = build_variants({**FORMS, Form.SHORT: "Our app is down."})
    assert len({set_sha256(variants), set_sha256(other_title), set_sha256(other_short)}) == 3
    assert set_sha256(build_variants(FORMS, [Channel.X])) != set_sha256(variants)


def test_approvers_read_each_distinct_text_once_with_its_channels_and_counts():
    text = describe(build_variants(FORMS))
    assert text.count(FORMS[Form.SHORT]) == 1 and text.count(FORMS[Form.LONG]) == 1
    assert "— Title (status page, email) —\nOur app is not taking orders" in text
    assert "X 49/280" in text and "Bluesky 44/300" in text and "SMS 1/5" in text and "LinkedIn 31/3000" in text


def test_a_channel_subset_keeps_the_channels_order():
    assert [v.channel for v in build_variants(FORMS, [Channel.EMAIL, Channel.X])] == [Channel.X, Channel.EMAIL]
