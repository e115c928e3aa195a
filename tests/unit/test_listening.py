"""Detection rules on synthetic streams, fed as the listening workflow feeds them: in steps of
stream time, each step judging what arrived since the detector's last final bucket."""

import bisect
import random
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from domain.catalog import CatalogError, load_catalog
from domain.listening import (
    DetectorState,
    KeywordTrigger,
    MentionFacts,
    Topic,
    TopicMatcher,
    count_buckets,
    evaluate,
)
from domain.sentiment import guess_language, is_negative, score
from tests.unit.conftest import FIXTURES

START = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)
PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"

TOPIC = Topic(
    id="brand",
    name="Northwind",
    terms=["northwind"],
    playbook="customer_backlash",
    keywords=[
        KeywordTrigger(terms=["fake", "hoax"], playbook="misinformation", min_count=5),
        KeywordTrigger(terms=["hacked"], playbook="account_compromise", min_count=3),
    ],
)


def mention(at: datetime, text: str = "northwind coffee this morning", negative: bool = False, reach: int = 100) -> MentionFacts:
    return MentionFacts(
        created_at=at,
        negative=negative,
        scored=True,
        reach=reach,
        text=text,
        platform="x",
        external_id=f"{at.timestamp()}-{random.random()}",
        author="someone",
        url="https://x.example/p",
    )


def chatter(
    rng: random.Random, start: datetime, minutes: int, per_minute, negative_share: float = 0.2, text: str = "northwind again"
) -> list[MentionFacts]:
    """Mentions at random seconds; ``per_minute`` is a number or a function of the minute."""
    found = []
    for minute in range(minutes):
        rate = per_minute(minute) if callable(per_minute) else per_minute
        count = max(0, round(rng.gauss(rate, rate**0.5)))
        for _ in range(count):
            at = start + timedelta(minutes=minute, seconds=rng.uniform(0, 60))
            found.append(mention(at, text, negative=rng.random() < negative_share, reach=rng.randint(10, 5000)))
    return sorted(found, key=lambda m: m.created_at)


def run(topic: Topic, mentions: list[MentionFacts], step: timedelta = timedelta(seconds=10)):
    """Advance stream time in steps; each step evaluates what the store would hold by then."""
    state = DetectorState(topic=topic.id)
    detections = []
    times = [m.created_at for m in mentions]
    end = mentions[-1].created_at + step
    now = mentions[0].created_at
    while now <= end:
        since = 0 if state.next_bucket is None else bisect.bisect_left(times, state.next_bucket)
        arrived = mentions[since : bisect.bisect_right(times, now)]
        state, found = evaluate(topic, state, count_buckets(topic, arrived), now)
        detections += found
        now += step
    return state, detections


def test_steady_chatter_detects_nothing():
    rng = random.Random(1)
    state, detections = run(TOPIC, chatter(rng, START, 240, 12))
    assert detections == []
    assert 8 < state.mean < 16 and state.buckets_seen > 230


def test_slow_growth_is_followed_by_the_baseline_not_detected():
    rng = random.Random(2)
    state, detections = run(TOPIC, chatter(rng, START, 240, lambda minute: 10 + minute * 0.15))  # 10 → 46 a minute over 4 h
    assert detections == []
    assert state.mean > 35


def test_a_sudden_spike_is_detected_once_within_a_minute_of_stream_time():
    rng = random.Random(3)
    spike_at = START + timedelta(minutes=90)
    stream = (
        chatter(rng, START, 90, 10)
        + chatter(rng, spike_at, 15, 150, negative_share=0.5)
        + chatter(rng, spike_at + timedelta(minutes=15), 60, 10)
    )
    stream.sort(key=lambda m: m.created_at)
    _, detections = run(TOPIC, stream)
    assert len(detections) == 1, [d.summary for d in detections]
    detection = detections[0]
    assert "volume" in detection.reasons
    assert detection.playbook == "customer_backlash"
    assert detection.bucket_start == spike_at
    assert detection.stream_time - spike_at <= timedelta(seconds=60)
    assert detection.first_mention_at >= spike_at
    evidence = detection.evidence
    assert evidence["count"] >= TOPIC.min_count and evidence["z_score"] >= TOPIC.z_threshold
    assert 8 < evidence["baseline_mean"] < 12
    top = [post["reach"] for post in evidence["top_posts"]]
    assert len(top) == 5 and top == sorted(top, reverse=True)
    assert detection.id == "sig-brand-20261130T093000Z"


def test_a_rumour_burst_with_a_keyword_suggests_the_misinformation_playbook():
    rng = random.Random(4)
    burst_at = START + timedelta(minutes=60, seconds=5)
    rumour = [
        mention(burst_at + timedelta(seconds=4 * i), "is it true northwind coffee is fake? hoax or not", reach=20000 + i)
        for i in range(8)
    ]
    stream = sorted(chatter(rng, START, 120, 10) + rumour, key=lambda m: m.created_at)
    _, detections = run(TOPIC, stream)
    assert len(detections) == 1
    detection = detections[0]
    assert detection.reasons == ["keyword:fake"]
    assert detection.playbook == "misinformation"
    assert detection.evidence["keyword_hits"]["fake"] == 5  # judged as soon as the bucket, still filling, had enough
    assert detection.evidence["top_posts"][0]["reach"] == 20004
    assert detection.stream_time - burst_at <= timedelta(seconds=60)


def test_a_keyword_trigger_needs_its_minimum():
    rng = random.Random(5)
    stream = chatter(rng, START, 60, 10) + [
        mention(START + timedelta(minutes=30, seconds=i), "northwind got hacked?") for i in range(2)
    ]
    _, detections = run(TOPIC, sorted(stream, key=lambda m: m.created_at))
    assert detections == []


def test_a_negative_turn_without_much_more_volume_is_detected_by_sentiment():
    rng = random.Random(6)
    turn = START + timedelta(minutes=60)
    stream = chatter(rng, START, 60, 25, negative_share=0.15) + chatter(rng, turn, 30, 30, negative_share=0.85)
    _, detections = run(TOPIC, sorted(stream, key=lambda m: m.created_at))
    assert len(detections) == 1
    assert detections[0].reasons == ["negative_sentiment"]
    assert detections[0].evidence["negative_share"] > 0.6
    assert detections[0].evidence["baseline_negative_share"] < 0.3


def test_one_surge_opens_one_detection_and_a_later_one_opens_another():
    rng = random.Random(7)
    base = chatter(rng, START, 9 * 60, 10)
    first = chatter(rng, START + timedelta(minutes=60), 20, 120)
    echo = chatter(rng, START + timedelta(minutes=150), 10, 120)  # inside the 6 h suppression window
    later = chatter(rng, START + timedelta(minutes=60 + 6 * 60 + 30), 10, 150)
    _, detections = run(TOPIC, sorted(base + first + echo + later, key=lambda m: m.created_at), step=timedelta(seconds=30))
    assert [d.bucket_start for d in detections] == [START + timedelta(minutes=60), START + timedelta(minutes=450)]


def test_a_burst_right_after_a_quiet_start_waits_for_the_warmup():
    stream = [mention(START + timedelta(seconds=i)) for i in range(100)]
    _, detections = run(TOPIC, stream)
    assert detections == []  # no history to judge volume against yet


def test_evaluation_is_the_same_in_one_pass_or_many():
    rng = random.Random(8)
    stream = sorted(chatter(rng, START, 60, 10) + chatter(rng, START + timedelta(minutes=60), 5, 200), key=lambda m: m.created_at)
    _, stepped = run(TOPIC, stream, step=timedelta(minutes=70))
    _, fine = run(TOPIC, stream, step=timedelta(seconds=5))
    assert [d.id for d in stepped] == [d.id for d in fine] == ["sig-brand-20261130T090000Z"]


def test_topic_matching_whole_words_wildcards_and_named_topics():
    topics = [
        Topic(id="app", name="App", terms=["northwind app", "awari*"], playbook="technical_outage"),
        Topic(id="brand", name="Brand", terms=["northwind", "@northwindcoffee"], playbook="customer_backlash"),
    ]
    matcher = TopicMatcher(topics)
    assert matcher.topic_for("The Northwind app is down again") == "app"
    assert matcher.topic_for("Awarie znowu!") == "app"
    assert matcher.topic_for("love @NorthwindCoffee") == "brand"
    assert matcher.topic_for("northwindish") is None
    assert matcher.topic_for("nothing to see", named="brand") == "brand"


def test_sentiment_english_vader_and_polish_lexicon():
    assert is_negative(score("This is a disgrace, worst service ever, I want a refund", "en"))
    assert not is_negative(score("Great coffee and lovely staff today!", "en"))
    assert is_negative(score("Skandal! Aplikacja nie działa od rana, wstyd", "pl"))
    assert not is_negative(score("Świetna obsługa, polecam", "pl"))
    assert is_negative(score("Nie polecam, kiepska kawa", "pl"))  # a negated positive
    assert guess_language("Zażółć gęślą jaźń") == "pl" and guess_language("hello") == "en"
    assert score("hola, qué tal", "es") is None


def test_polish_words_take_the_first_stem_they_start_with_negative_before_positive():
    """Each word's valence is looked up once and remembered; the stems' order still decides."""
    from domain.sentiment import _POLISH_NEGATIVE, _POLISH_POSITIVE, polish_score

    def by_scanning(text: str) -> float:
        lowered = " " + text.lower() + " "
        total = 0.0
        for phrase in ("nie działa", "nigdy więcej", "zwrot pieniędzy"):
            if phrase in lowered:
                total += _POLISH_NEGATIVE[phrase]
                lowered = lowered.replace(phrase, " ")
        words = re.findall(r"[\wąćęłńóśźż]+", lowered)
        for position, word in enumerate(words):
            valence = next((v for stem, v in _POLISH_NEGATIVE.items() if " " not in stem and word.startswith(stem)), None)
            if valence is None:
                valence = next((v for stem, v in _POLISH_POSITIVE.items() if word.startswith(stem)), None)
            if valence is None:
                continue
            if position > 0 and words[position - 1] in ("nie", "nigdy", "bez"):
                valence = -0.75 * valence
            total += valence
        return total / (total * total + 15) ** 0.5

    texts = [
        "Zła kawa, złe ciastka, zły dzień",
        "ukradli mi dane, ukradl ktoś konto",
        "nie polecam, nie działa, nigdy więcej, zwrot pieniędzy proszę",
        "super super super, świetna obsługa, bez skandalu",
        "SKANDAL! Oszuści! Żenada i masakra",
        "Kawa w Northwind dziś świetna, polecam",
        "zwykły dzień bez niczego",
    ]
    for text in texts * 2:  # the second time from the remembered words
        assert polish_score(text) == by_scanning(text), text


def test_the_shipped_topics_are_valid():
    catalog = load_catalog(PLAYBOOKS)
    assert [topic.id for topic in catalog.topics] == ["ordering_app", "brand"]


def _copy_playbooks(tmp_path: Path, topics: object) -> Path:
    folder = tmp_path / "playbooks"
    folder.mkdir()
    for path in FIXTURES.rglob("*"):
        if path.is_file() and path.name != "topics.yaml":
            target = folder / path.relative_to(FIXTURES)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    (folder / "topics.yaml").write_text(yaml.safe_dump(topics), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("topics", "expected"),
    [
        (
            {"topics": [{"id": "brand", "name": "B", "terms": ["x1"], "playbook": "nope"}]},
            "topics.yaml:topics.0.playbook: unknown playbook 'nope'",
        ),
        (
            {
                "topics": [
                    {
                        "id": "brand",
                        "name": "B",
                        "terms": ["x1"],
                        "playbook": "misinformation",
                        "keywords": [{"terms": ["fake"], "playbook": "gone"}],
                    }
                ]
            },
            "topics.yaml:topics.0.keywords.0.playbook: unknown playbook 'gone'",
        ),
        (
            {"topics": [{"id": "brand", "name": "B", "terms": ["x1"], "playbook": "misinformation", "bucket": "7m"}]},
            "topics.yaml:topics.0.bucket: must divide a day evenly",
        ),
        (
            {"topics": [{"id": "brand", "name": "B", "terms": [], "playbook": "misinformation"}]},
            "topics.yaml:topics.0.terms: List should have at least 1 item",
        ),
        (
            {"topics": [{"id": "brand", "name": "B", "terms": ["x1"], "playbook": "misinformation", "z_threshold": "high"}]},
            "topics.yaml:topics.0.z_threshold: Input should be a valid number",
        ),
    ],
)
def test_bad_topics_are_reported_as_file_path_reason(tmp_path, topics, expected):
    folder = _copy_playbooks(tmp_path, topics)
    with pytest.raises(CatalogError) as refused:
        load_catalog(folder)
    assert any(expected in str(problem) for problem in refused.value.problems), refused.value.problems


def test_a_batch_of_texts_gets_the_keyword_hits_each_text_gets_alone():
    """count_buckets looks for each stem once in the whole batch, then searches only the texts it
    occurs in: the same hits as asking text by text, whatever the texts hold."""
    from domain.listening import KeywordMatcher

    topic = Topic(
        id="brand",
        name="Northwind",
        terms=["northwind"],
        playbook="customer_backlash",
        keywords=[
            KeywordTrigger(terms=["hacked", "włam*", "scam link"], min_count=1),
            KeywordTrigger(terms=["boycott*"], min_count=1),
            KeywordTrigger(terms=["fake"], min_count=1),
        ],
    )
    texts = [
        "Northwind was HACKED",
        "unhacked northwind",  # the stem inside a word: no hit
        "northwind: Włamanie!",
        "boycottnorthwind now",  # the trailing * matches any ending
        "a scam\nlink",  # the term's space is not a line break
        "",
        "scam link, fake, boycotts",  # three triggers in one text
        "hacked",  # a stem at the very start and end of a text
        "fakeness",
        "İ fake",  # lowercasing that changes a text's length
        "wrong: scam",
        "link hacked\nfake\n",
    ] * 3
    matcher = KeywordMatcher(topic)
    one_by_one: dict[int, list[int]] = {}
    for position, text in enumerate(texts):
        for index in matcher.hits(text):
            one_by_one.setdefault(index, []).append(position)
    assert matcher.hits_of_each(texts) == one_by_one
    assert set(one_by_one) == {0, 1, 2}
    assert matcher.hits_of_each([]) == {}
    assert KeywordMatcher(topic).hits_of_each(["nothing here"]) == {}
