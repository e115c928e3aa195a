"""Mentions and signals in the read model: bulk ingestion, what the detector reads, signal records."""

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import MentionRow, SignalRow
from store.service import _insert

# SQLite allows 32,766 bound parameters in one statement; a mention binds 13.
_ROWS_PER_STATEMENT = 2000


async def insert_mentions(session: AsyncSession, rows: list[dict[str, Any]]) -> Counter:
    """Store new mentions in one transaction; a (platform, external_id) already stored, or repeated
    in the batch, is skipped. Returns how many were stored for each topic (None: no topic)."""
    stored: Counter = Counter()
    for offset in range(0, len(rows), _ROWS_PER_STATEMENT):
        chunk = rows[offset:offset + _ROWS_PER_STATEMENT]
        statement = (
            _insert(session, MentionRow)
            .values(chunk)
            .on_conflict_do_nothing(index_elements=["platform", "external_id"])
            .returning(MentionRow.topic)
        )
        stored.update(topic for (topic,) in (await session.execute(statement)).all())
    await session.commit()
    return stored


async def stream_time(session: AsyncSession, topic: str) -> datetime | None:
    """The topic's newest mention's time: how far its conversation has got, whatever the wall clock
    says (so an export of last week, imported in time order, is judged as it happened)."""
    return await session.scalar(select(func.max(MentionRow.created_at)).where(MentionRow.topic == topic))


async def topic_mentions(session: AsyncSession, topic: str, since: datetime | None, until: datetime) -> list[MentionRow]:
    query = select(MentionRow).where(MentionRow.topic == topic, MentionRow.created_at <= until).order_by(MentionRow.created_at)
    if since is not None:
        query = query.where(MentionRow.created_at >= since)
    return list((await session.scalars(query)).all())


async def first_topic_mention(session: AsyncSession, topic: str) -> datetime | None:
    return await session.scalar(select(func.min(MentionRow.created_at)).where(MentionRow.topic == topic))


async def mention_series(session: AsyncSession, topics: list[str], since: datetime, until: datetime) -> list[tuple[datetime, bool, bool, int]]:
    """(created_at, scored, negative, reach) of the topics' mentions in the window, oldest first."""
    query = (
        select(MentionRow.created_at, MentionRow.sentiment.is_not(None), MentionRow.negative, MentionRow.reach)
        .where(MentionRow.topic.in_(topics), MentionRow.created_at >= since, MentionRow.created_at <= until)
        .order_by(MentionRow.created_at)
    )
    return [tuple(row) for row in (await session.execute(query)).all()]


async def count_mentions(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(MentionRow)) or 0


# ---- signals -----------------------------------------------------------------------------------


async def record_signals(session: AsyncSession, signals: list[dict[str, Any]]) -> list[str]:
    """Store detections as suggested signals; one already stored (an evaluation repeated after a
    retry) is kept as it is. Returns the ids that are new."""
    new: list[str] = []
    for signal in signals:
        statement = _insert(session, SignalRow).values(**signal).on_conflict_do_nothing(index_elements=["id"]).returning(SignalRow.id)
        new += [row[0] for row in (await session.execute(statement)).all()]
    await session.commit()
    return new


async def get_signal(session: AsyncSession, signal_id: str) -> SignalRow | None:
    return await session.get(SignalRow, signal_id)


async def list_signals(session: AsyncSession, status: str | None = None, topic: str | None = None, limit: int = 200) -> list[SignalRow]:
    query = select(SignalRow).order_by(SignalRow.detected_at.desc()).limit(limit)
    if status:
        query = query.where(SignalRow.status == status)
    if topic:
        query = query.where(SignalRow.topic == topic)
    return list((await session.scalars(query)).all())


async def decide_signal(
    session: AsyncSession, signal_id: str, status: str, person: str | None, at: datetime, incident_id: str | None = None, note: str | None = None
) -> bool:
    """Move a suggested signal on; False when it was decided already (nothing changes then)."""
    result = await session.execute(
        update(SignalRow)
        .where(SignalRow.id == signal_id, SignalRow.status == "suggested")
        .values(status=status, decided_by=person, decided_at=at, incident_id=incident_id, note=note)
    )
    await session.commit()
    return bool(result.rowcount)


async def signals_for_incident(session: AsyncSession, incident_id: str) -> list[SignalRow]:
    query = select(SignalRow).where(SignalRow.incident_id == incident_id).order_by(SignalRow.bucket_start)
    return list((await session.scalars(query)).all())
