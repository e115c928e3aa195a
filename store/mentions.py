"""Mentions and signals in the read model: bulk ingestion, what the detector reads, signal records."""

from collections import Counter
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import String, bindparam, case, func, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import MentionRow, SignalRow
from store.service import _insert

_COLUMNS = (
    "platform",
    "external_id",
    "author",
    "text",
    "url",
    "created_at",
    "language",
    "reach",
    "topic",
    "sentiment",
    "negative",
    "received_at",
    "ingested_by",
    "incident_id",
    "statement_version",
)
_SQLITE_INSERT = (
    f"INSERT INTO mentions ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
    "ON CONFLICT (platform, external_id) DO NOTHING"
)


def _sqlite_time(value: datetime) -> str:
    """How SQLAlchemy's DateTime stores a (UTC) time in SQLite, so the ORM reads these rows as its own."""
    return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")


async def insert_mentions(session: AsyncSession, rows: list[dict[str, Any]]) -> Counter:
    """Store new mentions in one transaction; a (platform, external_id) already stored, or repeated
    in the batch, is skipped. Returns how many were stored for each topic (None: no topic).

    On SQLite, one plain executemany per topic (its row count says how many were new): SQLAlchemy's
    per-row parameter processing costs three times the insert itself, and ingestion is the hot path.
    On PostgreSQL, one executemany with RETURNING (SQLAlchemy's "insertmanyvalues")."""
    connection = await session.connection()
    stored: Counter = Counter()
    if connection.dialect.name == "sqlite":
        by_topic: dict[str | None, list[tuple]] = {}
        received = {at: _sqlite_time(at) for at in {row["received_at"] for row in rows}}  # a batch has one: converted once
        for row in rows:
            values = (
                row["platform"],
                row["external_id"],
                row["author"],
                row["text"],
                row["url"],
                _sqlite_time(row["created_at"]),
                row["language"],
                row["reach"],
                row["topic"],
                row["sentiment"],
                row["negative"],
                received[row["received_at"]],
                row.get("ingested_by"),
                row.get("incident_id"),
                row.get("statement_version"),
            )
            by_topic.setdefault(row["topic"], []).append(values)
        for topic, group in by_topic.items():
            stored[topic] += (await connection.exec_driver_sql(_SQLITE_INSERT, group)).rowcount
    else:
        table = MentionRow.__table__
        statement = _insert(session, table).on_conflict_do_nothing(index_elements=["platform", "external_id"])
        result = await connection.execute(
            statement.returning(table.c.topic),
            [{"ingested_by": None, "incident_id": None, "statement_version": None, **row} for row in rows],
        )
        stored.update(topic for (topic,) in result.all())
    await session.commit()
    return +stored


async def stream_time(session: AsyncSession, topic: str) -> datetime | None:
    """The topic's newest mention's time: how far its conversation has got, whatever the wall clock
    says (so an export of last week, imported in time order, is judged as it happened)."""
    return await session.scalar(select(func.max(MentionRow.created_at)).where(MentionRow.topic == topic))


_mention = MentionRow.__table__.c
_TOPIC_MENTIONS = (
    select(
        _mention.created_at,
        _mention.negative,
        _mention.sentiment.is_not(None),
        _mention.reach,
        _mention.text,
        _mention.platform,
        _mention.external_id,
        _mention.author,
        _mention.url,
    )
    .where(
        _mention.topic == bindparam("topic"), _mention.created_at >= bindparam("since"), _mention.created_at <= bindparam("until")
    )
    .order_by(_mention.created_at)
)


_TOPIC_MENTIONS_TEXT_TIMES = _TOPIC_MENTIONS.with_only_columns(
    type_coerce(_mention.created_at, String), *_TOPIC_MENTIONS.selected_columns[1:], maintain_column_froms=True
)


def _from_sqlite_time(value: str) -> datetime:
    """The inverse of :func:`_sqlite_time`: SQLite's text of a UTC time, as an aware datetime."""
    return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)


async def topic_mentions(session: AsyncSession, topic: str, since: datetime, until: datetime) -> list[tuple]:
    """(created_at, negative, scored, reach, text, platform, external_id, author, url) of the topic's
    mentions in [since, until], oldest first: through Core, not the ORM (a pass reads a whole batch
    of thousands, and the ORM's loading of each row was most of the detector's read)."""
    connection = await session.connection()
    if connection.dialect.name != "sqlite":
        result = await connection.execute(_TOPIC_MENTIONS, {"topic": topic, "since": since, "until": until})
        return [tuple(row) for row in result.all()]
    # SQLite hands back its text; SQLAlchemy's parsing of it, row by row in Python, was the read's largest cost
    result = await connection.execute(_TOPIC_MENTIONS_TEXT_TIMES, {"topic": topic, "since": since, "until": until})
    return [(_from_sqlite_time(created_at), *rest) for created_at, *rest in result.all()]


async def topic_mention_rows(session: AsyncSession, topic: str, since: datetime, until: datetime) -> tuple[list[tuple], bool]:
    """:func:`topic_mentions`' rows as the database driver hands them, and whether their times are
    SQLite's text (then the flags are 0 or 1): for the detector's process to turn into facts
    (``activities.detector.judge``). On SQLite, read straight from the driver: SQLAlchemy's row objects
    would cost the worker about what building the facts there did, and plain tuples are cheap to send."""
    connection = await session.connection()
    if connection.dialect.name != "sqlite":
        return await topic_mentions(session, topic, since, until), False
    compiled = _TOPIC_MENTIONS_TEXT_TIMES.compile(dialect=connection.dialect)
    values = {"topic": topic, "since": _sqlite_bound(since), "until": _sqlite_bound(until)}
    driver = (await connection.get_raw_connection()).driver_connection
    cursor = await driver.execute(str(compiled), [values[name] for name in compiled.positiontup])
    try:
        return list(await cursor.fetchall()), True
    finally:
        await cursor.close()


def _sqlite_bound(value: datetime) -> str:
    """A time as SQLAlchemy's :class:`store.models.UTCDateTime` binds it on SQLite (an aware one in UTC)."""
    return _sqlite_time(value) if value.tzinfo is not None else value.isoformat(" ", "microseconds")


async def ingest_keys(session: AsyncSession, topic: str, since: datetime, until: datetime) -> list[str]:
    """The names of the API keys whose mentions of the topic fall in [since, until], sorted: who fed
    a surge that declared an incident by itself."""
    query = (
        select(MentionRow.ingested_by)
        .distinct()
        .where(
            MentionRow.topic == topic,
            MentionRow.created_at >= since,
            MentionRow.created_at <= until,
            MentionRow.ingested_by.is_not(None),
        )
    )
    return sorted(await session.scalars(query))


async def first_topic_mention(session: AsyncSession, topic: str) -> datetime | None:
    return await session.scalar(select(func.min(MentionRow.created_at)).where(MentionRow.topic == topic))


async def mention_series(
    session: AsyncSession, topics: list[str], since: datetime, until: datetime
) -> list[tuple[datetime, bool, bool, int]]:
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
        statement = (
            _insert(session, SignalRow).values(**signal).on_conflict_do_nothing(index_elements=["id"]).returning(SignalRow.id)
        )
        new += [row[0] for row in (await session.execute(statement)).all()]
    await session.commit()
    return new


async def get_signal(session: AsyncSession, signal_id: str) -> SignalRow | None:
    return await session.get(SignalRow, signal_id)


async def list_signals(
    session: AsyncSession, status: str | None = None, topic: str | None = None, limit: int = 200
) -> list[SignalRow]:
    query = select(SignalRow).order_by(SignalRow.detected_at.desc()).limit(limit)
    if status:
        query = query.where(SignalRow.status == status)
    if topic:
        query = query.where(SignalRow.topic == topic)
    return list((await session.scalars(query)).all())


async def decide_signal(
    session: AsyncSession,
    signal_id: str,
    status: str,
    person: str | None,
    at: datetime,
    incident_id: str | None = None,
    note: str | None = None,
) -> bool:
    """Move a suggested signal on; False when it was decided already (nothing changes then)."""
    result = await session.execute(
        update(SignalRow)
        .where(SignalRow.id == signal_id, SignalRow.status == "suggested")
        .values(status=status, decided_by=person, decided_at=at, incident_id=incident_id, note=note)
    )
    await session.commit()
    return bool(result.rowcount)


async def replies_by_statement(session: AsyncSession, incident_id: str) -> dict[int, tuple[int, int, int]]:
    """Per statement version: (replies, scored, negative) among the replies to and quotes of its posts."""
    query = (
        select(
            MentionRow.statement_version,
            func.count(),
            func.count(MentionRow.sentiment),
            func.sum(case((MentionRow.negative.is_(True), 1), else_=0)),
        )
        .where(MentionRow.incident_id == incident_id)
        .group_by(MentionRow.statement_version)
    )
    return {
        version: (count, scored, int(negative or 0)) for version, count, scored, negative in (await session.execute(query)).all()
    }


async def incident_replies(session: AsyncSession, incident_id: str, limit: int = 200) -> list[MentionRow]:
    query = select(MentionRow).where(MentionRow.incident_id == incident_id).order_by(MentionRow.created_at.desc()).limit(limit)
    return list((await session.scalars(query)).all())


async def reply_facts(session: AsyncSession, incident_id: str) -> dict[int, list[tuple]]:
    """Per statement version, the replies to and quotes of its posts as the surge rule reads them:
    (created_at, negative, scored, reach, text, platform, external_id, author, url)."""
    query = select(
        MentionRow.statement_version,
        MentionRow.created_at,
        MentionRow.negative,
        MentionRow.sentiment.is_not(None),
        MentionRow.reach,
        MentionRow.text,
        MentionRow.platform,
        MentionRow.external_id,
        MentionRow.author,
        MentionRow.url,
    ).where(MentionRow.incident_id == incident_id, MentionRow.statement_version.is_not(None))
    found: dict[int, list[tuple]] = {}
    for version, created_at, negative, scored, *rest in (await session.execute(query)).all():
        found.setdefault(version, []).append((created_at, bool(negative), bool(scored), *rest))
    return found


async def signals_of_incident(session: AsyncSession, incident_id: str) -> list[SignalRow]:
    query = select(SignalRow).where(SignalRow.incident_id == incident_id).order_by(SignalRow.detected_at)
    return list((await session.scalars(query)).all())
