"""A surge of negative replies to one of our statements raises a signal on the incident."""

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from domain.listening import MentionFacts, RepliesWatch, ReplySurge, reply_signal_id, reply_surge
from domain.playbook import Playbook
from tests.unit.conftest import FIXTURES

T0 = datetime(2026, 12, 6, 14, 0, tzinfo=timezone.utc)


def reply(minute: float, negative: bool, scored: bool = True, reach: int = 0) -> MentionFacts:
    at = T0 + timedelta(minutes=minute)
    return MentionFacts(
        at,
        negative and scored,
        scored,
        reach,
        "charged twice, this is terrible" if negative else "thanks for the update",
        "x",
        f"r{minute}",
        "@someone",
        f"https://x.com/i/web/status/{minute}",
    )


def judge(replies, rule=None):
    return reply_surge(rule or ReplySurge(), "inc-1", "technical_outage", 2, "update", replies)


def test_ten_negative_replies_within_fifteen_minutes_are_a_surge_by_default():
    replies = [reply(i, negative=True) for i in range(10)] + [reply(i + 0.5, negative=False) for i in range(4)]
    detection = judge(replies)
    assert detection is not None
    assert detection.id == reply_signal_id("inc-1", 2) == "sig-replies-inc-1-v2"
    assert detection.reasons == ["negative_replies"] and detection.topic == "replies"
    assert detection.evidence["negative"] == 10 and detection.evidence["statement_version"] == 2
    assert detection.first_mention_at == T0
    assert "10 of 14 replies to statement v2 (update)" in detection.summary
    assert all(post["text"].startswith("charged twice") for post in detection.evidence["top_posts"])


def test_nine_are_not_and_neither_are_ten_spread_over_more_than_the_window():
    assert judge([reply(i, negative=True) for i in range(9)]) is None
    assert judge([reply(i * 2, negative=True) for i in range(10)]) is None  # 18 minutes: at most 8 in any 15


def test_mostly_kind_replies_with_some_angry_ones_are_no_surge():
    replies = [reply(i / 4, negative=True) for i in range(10)] + [reply(i / 4 + 0.1, negative=False) for i in range(10)]
    assert judge(replies) is None  # 50 % negative, under the 60 % the rule asks for


def test_unscored_replies_do_not_dilute_the_share():
    replies = [reply(i, negative=True) for i in range(10)] + [reply(i + 0.5, negative=False, scored=False) for i in range(30)]
    assert judge(replies) is not None


def test_the_playbook_sets_the_threshold_and_the_pace():
    rule = ReplySurge(within=timedelta(minutes=5), min_negative=3, negative_share=0.5)
    assert judge([reply(i, negative=True) for i in range(3)], rule) is not None
    assert judge([reply(i * 3, negative=True) for i in range(3)], rule) is None  # six minutes apart end to end
    watch = RepliesWatch.model_validate({"read_every": "30s", "surge": {"min_negative": 3}})
    assert (
        watch.read_every == timedelta(seconds=30)
        and watch.surge.min_negative == 3
        and watch.surge.within == timedelta(minutes=15)
    )
    with pytest.raises(ValidationError, match="min_negative"):
        RepliesWatch.model_validate({"surge": {"min_negative": 0}})
    with pytest.raises(ValidationError, match="negatives"):
        RepliesWatch.model_validate({"surge": {"negatives": 3}})


def test_a_playbook_without_replies_gets_the_defaults():
    import yaml

    book = Playbook.model_validate(yaml.safe_load((FIXTURES / "technical_outage.yaml").read_text()))
    assert book.communicate.replies == RepliesWatch()
    assert book.communicate.replies.read_every == timedelta(minutes=5)


def test_replies_posted_at_the_same_time_are_judged_together():
    at_once = [reply(0, negative=True) for _ in range(10)] + [reply(0, negative=False) for _ in range(10)]
    assert judge(at_once) is None  # 50 %, whatever order they are stored in
