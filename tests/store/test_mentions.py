"""store/mentions.py on SQLite and PostgreSQL: bulk ingestion's dedupe and counts, what the detector
reads back, and signals stored once and decided once."""

from datetime import datetime, timedelta, timezone

from store import mentions as store

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def row(number: int, topic: str | None = "brand", platform: str = "x", at: datetime = T0, **changes) -> dict:
    return {
        "platform": platform,
        "external_id": str(number),
        "author": "ann",
        "text": f"northwind post {number}",
        "url": f"https://x.example/{number}",
        "created_at": at + timedelta(seconds=number),
        "language": "en",
        "reach": number,
        "topic": topic,
        "sentiment": -0.5 if number % 2 else 0.4,
        "negative": bool(number % 2),
        "received_at": T0,
        **changes,
    }


async def test_a_batch_is_stored_once_with_counts_per_topic(sessions):
    batch = (
        [row(i) for i in range(300)]
        + [row(i, topic="ordering_app", platform="facebook") for i in range(50)]
        + [row(7, topic=None, platform="tiktok")]
    )
    async with sessions() as session:
        assert await store.insert_mentions(session, batch) == {"brand": 300, "ordering_app": 50, None: 1}
    async with sessions() as session:
        again = await store.insert_mentions(session, batch[:10] + [row(1000), row(1000)])
        assert again == {"brand": 1}
        assert await store.count_mentions(session) == 352


async def test_the_detector_reads_times_back_as_stored(sessions):
    async with sessions() as session:
        await store.insert_mentions(session, [row(i, at=T0.astimezone(timezone(timedelta(hours=2)))) for i in range(5)])
    async with sessions() as session:
        assert await store.stream_time(session, "brand") == T0 + timedelta(seconds=4)
        assert await store.first_topic_mention(session, "brand") == T0
        found = await store.topic_mentions(session, "brand", T0 + timedelta(seconds=1), T0 + timedelta(seconds=3))
        assert [(at, negative, scored, reach) for at, negative, scored, reach, *_ in found] == [
            (T0 + timedelta(seconds=1), True, True, 1),
            (T0 + timedelta(seconds=2), False, True, 2),
            (T0 + timedelta(seconds=3), True, True, 3),
        ]
        assert found[0][4:] == ("northwind post 1", "x", "1", "ann", "https://x.example/1")
        series = await store.mention_series(session, ["brand", "other"], T0, T0 + timedelta(minutes=1))
        assert len(series) == 5 and series[0] == (T0, True, False, 0)


def signal(signal_id: str = "sig-brand-1") -> dict:
    return {
        "id": signal_id,
        "topic": "brand",
        "status": "suggested",
        "reasons": ["volume"],
        "playbook": "customer_backlash",
        "title": "Mention surge: Northwind",
        "summary": "412 mentions",
        "bucket_start": T0,
        "first_mention_at": T0,
        "stream_time": T0 + timedelta(seconds=30),
        "detected_at": T0 + timedelta(seconds=31),
        "evidence": {"count": 412},
    }


async def test_a_signal_is_stored_once_and_decided_once(sessions):
    async with sessions() as session:
        assert await store.record_signals(session, [signal()]) == ["sig-brand-1"]
        assert await store.record_signals(session, [signal(), signal("sig-brand-2")]) == ["sig-brand-2"]
        assert await store.decide_signal(session, "sig-brand-1", "confirmed", "ewa", T0, incident_id="inc-1")
        assert not await store.decide_signal(session, "sig-brand-1", "dismissed", "maria", T0)
    async with sessions() as session:
        decided = await store.get_signal(session, "sig-brand-1")
        assert (decided.status, decided.decided_by, decided.incident_id) == ("confirmed", "ewa", "inc-1")
        assert [s.id for s in await store.list_signals(session, status="suggested")] == ["sig-brand-2"]


async def test_the_detector_reads_aware_times_to_the_microsecond_however_the_row_was_written(sessions):
    """topic_mentions reads SQLite's text of a time itself: a row from the bulk insert and one
    written through the ORM come back as the same aware UTC times the ORM reads."""
    from sqlalchemy import select

    from store.models import MentionRow

    at = T0 + timedelta(microseconds=123_456)
    async with sessions() as session:
        await store.insert_mentions(session, [row(1, at=at), row(2, at=at.replace(microsecond=0))])
        session.add(MentionRow(**{**row(3, at=at), "received_at": T0}))
        await session.commit()
    async with sessions() as session:
        found = await store.topic_mentions(session, "brand", T0, T0 + timedelta(minutes=1))
        through_orm = (await session.scalars(select(MentionRow.created_at).order_by(MentionRow.created_at))).all()
    assert (
        [each[0] for each in found]
        == list(through_orm)
        == [
            at + timedelta(seconds=1),
            T0 + timedelta(seconds=2),
            at + timedelta(seconds=3),
        ]
    )
    assert all(each[0].utcoffset() == timedelta(0) for each in found)
    assert [each[1:4] for each in found] == [(True, True, 1), (False, True, 2), (True, True, 3)]
