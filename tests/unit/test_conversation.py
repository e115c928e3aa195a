"""The conversation during an incident: buckets, the hour before and after a statement, the SVG."""

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

from api.mention_chart import conversation_svg
from domain.conversation import Sample, bucket_width, conversation

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
SVG = "{http://www.w3.org/2000/svg}"


def samples(start: datetime, minutes: int, per_minute: int, negative_every: int) -> list[Sample]:
    found = []
    for minute in range(minutes):
        for i in range(per_minute):
            found.append(
                Sample(at=start + timedelta(minutes=minute, seconds=i), scored=True, negative=i % negative_every == 0, reach=10)
            )
    return found


def test_a_statement_that_calmed_the_conversation():
    published = T0 + timedelta(hours=1)
    talk = conversation(
        ["brand"],
        samples(T0, 60, 10, 2) + samples(published, 60, 10, 10),
        T0,
        T0 + timedelta(hours=2, minutes=30),
        [(1, "holding", published)],
        now=T0 + timedelta(hours=3),
    )
    [effect] = talk.statements
    assert effect.before == 0.5 and effect.after == 0.1 and round(effect.change, 2) == -0.4
    assert effect.before_count == effect.after_count == 600 and effect.after_complete
    assert talk.mentions == 1200 and talk.reach == 12000 and talk.first_mention_at == T0
    assert talk.width == timedelta(minutes=5) and talk.peak == 50
    assert sum(point.count for point in talk.points) == 1200


def test_the_hour_after_is_marked_incomplete_until_it_has_passed():
    published = T0 + timedelta(minutes=30)
    talk = conversation(
        ["brand"],
        samples(T0, 40, 5, 3),
        T0,
        T0 + timedelta(minutes=40),
        [(1, "holding", published)],
        now=T0 + timedelta(minutes=40),
    )
    assert not talk.statements[0].after_complete
    unscored = conversation(["brand"], [], T0, T0 + timedelta(minutes=40), [(1, "holding", published)], now=T0)
    assert unscored.statements[0].before is None and unscored.statements[0].change is None


def test_bucket_width_keeps_the_chart_readable():
    assert bucket_width(T0, T0 + timedelta(hours=2)) == timedelta(minutes=1)
    assert bucket_width(T0, T0 + timedelta(hours=3)) == timedelta(minutes=5)
    assert bucket_width(T0, T0 + timedelta(days=3)) == timedelta(hours=1)


def test_the_chart_is_self_contained_svg_with_every_bucket_and_statement():
    published = T0 + timedelta(minutes=50)
    talk = conversation(
        ["brand"],
        samples(T0, 90, 4, 2),
        T0,
        T0 + timedelta(minutes=90),
        [(1, "holding", published), (2, "update", published + timedelta(minutes=20))],
        now=T0 + timedelta(hours=3),
    )
    svg = str(conversation_svg(talk))
    root = ET.fromstring(svg)  # well-formed XML
    bars = [rect for rect in root.iter(f"{SVG}rect") if rect.get("class") == "volume"]
    assert len(bars) == len(talk.points)
    markers = [group for group in root.iter(f"{SVG}g") if group.get("class") == "statement"]
    assert [group.get("data-version") for group in markers] == ["1", "2"]
    assert "in the hour before" in markers[0].find(f"{SVG}title").text
    assert root.find(f"{SVG}polyline") is not None
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")  # nothing fetched from anywhere


def test_text_in_the_chart_is_escaped():
    talk = conversation(["brand"], [], T0, T0 + timedelta(minutes=10), [(1, "<script>", T0 + timedelta(minutes=5))], now=T0)
    svg = str(conversation_svg(talk))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    ET.fromstring(svg)
