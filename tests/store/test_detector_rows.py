"""The detector's pass from the driver's rows (store.mentions.topic_mention_rows, judged by
activities.detector, in a process of its own when the pass is large) on SQLite and PostgreSQL: the
same state and detections as the facts read through SQLAlchemy and judged in the worker."""

from datetime import datetime, timedelta, timezone

import psutil

from activities.detector import MIN_ROWS, PROCESS_NAME, DetectorPool, judge
from domain.listening import DetectorState, KeywordTrigger, MentionFacts, Topic, count_buckets, evaluate
from store import mentions as store
from store.models import MentionRow

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
TOPIC = Topic(
    id="brand",
    name="Northwind",
    terms=["northwind"],
    playbook="customer_backlash",
    warmup_buckets=3,
    min_count=5,
    keywords=[KeywordTrigger(terms=["hacked", "boycott*"], playbook="security_breach", min_count=3)],
)
TEXTS = ["northwind flat white, lovely", "Northwind was HACKED?", "boycotting northwind", "northwind ok"]


def row(number: int, at: datetime, texts: list[str] = TEXTS) -> dict:
    scored = number % 5 != 0
    return {
        "platform": "x" if number % 3 else "tiktok",
        "external_id": str(number),
        "author": f"user{number % 7}",
        "text": texts[number % len(texts)],
        "url": f"https://x.example/{number}",
        "created_at": at,
        "language": "en",
        "reach": (number * 7919) % 1000,
        "topic": "brand",
        "sentiment": (-0.6 if number % 2 else 0.3) if scored else None,
        "negative": scored and bool(number % 2),
        "received_at": T0,
    }


def stream(count: int) -> list[dict]:
    """Calm minutes, then a surge in the last one: enough for volume, sentiment and keyword signals."""
    calm = [row(number, T0 + timedelta(seconds=number * 7, microseconds=number), [TEXTS[0], TEXTS[3]]) for number in range(40)]
    surge_at = T0 + timedelta(minutes=6)
    return calm + [row(number, surge_at + timedelta(microseconds=number * 37)) for number in range(40, count)]


async def stored(sessions, rows: list[dict]) -> None:
    async with sessions() as session:
        await store.insert_mentions(session, rows[1:])
        session.add(MentionRow(**rows[0]))  # one written through the ORM: its time text is SQLAlchemy's own
        await session.commit()


async def test_a_pass_from_the_drivers_rows_judges_as_the_facts_read_through_sqlalchemy(sessions):
    await stored(sessions, stream(300))
    state = DetectorState(topic="brand")
    since = T0.astimezone(timezone(timedelta(hours=2)))  # an aware bound in another zone reads the same rows
    until = T0 + timedelta(minutes=7)
    async with sessions() as session:
        facts = [MentionFacts(*each) for each in await store.topic_mentions(session, "brand", since, until)]
        rows, times_as_text = await store.topic_mention_rows(session, "brand", since, until)
    assert times_as_text == (sessions.kw["bind"].dialect.name == "sqlite")
    expected = evaluate(TOPIC, state, count_buckets(TOPIC, facts), until)
    assert len(rows) == len(facts) == 300
    assert judge(TOPIC, state, rows, until, times_as_text) == expected
    new_state, detections = expected
    reasons = {reason for each in detections for reason in each.reasons}
    assert new_state.buckets_seen > 0 and "volume" in reasons and any(reason.startswith("keyword") for reason in reasons)


async def test_a_large_pass_is_judged_in_the_detectors_process_as_in_the_worker(sessions):
    await stored(sessions, stream(MIN_ROWS + 200))
    state = DetectorState(topic="brand")
    until = T0 + timedelta(minutes=7)
    async with sessions() as session:
        rows, times_as_text = await store.topic_mention_rows(session, "brand", T0, until)
    in_worker = DetectorPool(0)
    in_process = DetectorPool(1)
    try:
        assert in_process.in_processes(len(rows)) and not in_worker.in_processes(len(rows))
        assert not in_process.in_processes(MIN_ROWS - 1)
        judged = await in_process.judge(TOPIC, state, rows, until, times_as_text)
        assert PROCESS_NAME in {child.name() for child in psutil.Process().children()}  # it did go to the process, named
        assert judged == await in_worker.judge(TOPIC, state, rows, until, times_as_text)
        assert judged[1], "the surge is detected"
    finally:
        in_process.close()
