"""Reads and idempotent writes on the read model."""

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from domain.events import EventKind
from store.models import IncidentMetricsRow, IncidentRow, OutboxRow, SubscriberRow, TimelineRow


def _insert(session: AsyncSession, model):
    dialect = session.bind.dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(model)


async def project_incident(session: AsyncSession, summary: dict[str, Any], events: list[dict[str, Any]]) -> None:
    """Apply a workflow's snapshot and new timeline events. Safe to repeat and to run out of order:
    events are keyed by (incident, seq), and the row only moves forward in ``projected_seq``."""
    if events:
        statement = _insert(session, TimelineRow).values([{"incident_id": summary["id"], **event} for event in events])
        await session.execute(statement.on_conflict_do_nothing(index_elements=["incident_id", "seq"]))
    row = await session.get(IncidentRow, summary["id"], with_for_update=True)
    if row is None:
        session.add(IncidentRow(**summary))
    elif summary["projected_seq"] >= row.projected_seq:
        for key, value in summary.items():
            setattr(row, key, value)
    await session.commit()


async def project_metrics(session: AsyncSession, metrics: dict[str, Any]) -> None:
    """Keep an incident's headline metrics current; a stale retry (fewer events) changes nothing."""
    row = await session.get(IncidentMetricsRow, metrics["incident_id"], with_for_update=True)
    if row is None:
        session.add(IncidentMetricsRow(**metrics))
    elif metrics["projected_seq"] >= row.projected_seq:
        for key, value in metrics.items():
            setattr(row, key, value)
    await session.commit()


async def list_metrics(
    session: AsyncSession, drill: bool = False, scenario: str | None = None, severity: str | None = None, limit: int = 5000
) -> list[IncidentMetricsRow]:
    query = (
        select(IncidentMetricsRow).where(IncidentMetricsRow.drill == drill).order_by(IncidentMetricsRow.declared_at).limit(limit)
    )
    if scenario:
        query = query.where(IncidentMetricsRow.scenario == scenario)
    if severity:
        query = query.where(IncidentMetricsRow.severity == severity)
    return list((await session.scalars(query)).all())


async def list_drills(session: AsyncSession, limit: int = 500) -> list[tuple[IncidentRow, IncidentMetricsRow | None]]:
    query = (
        select(IncidentRow, IncidentMetricsRow)
        .join(IncidentMetricsRow, IncidentMetricsRow.incident_id == IncidentRow.id, isouter=True)
        .where(IncidentRow.drill.is_(True))
        .order_by(IncidentRow.declared_at.desc())
        .limit(limit)
    )
    return [(row, metrics) for row, metrics in (await session.execute(query)).all()]


async def last_drills(session: AsyncSession) -> dict[str, datetime]:
    """When each playbook was last drilled: the declaration of its latest drill that ran to its end."""
    query = (
        select(IncidentRow.playbook, func.max(IncidentRow.declared_at))
        .where(IncidentRow.drill.is_(True), IncidentRow.status == "closed")
        .group_by(IncidentRow.playbook)
    )
    rows = (await session.execute(query)).all()
    return {playbook: at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at for playbook, at in rows}


# Built once: a statement per message would be built and cache-keyed anew on every send.
_OUTBOX_INSERT = {
    name: dialect_insert(OutboxRow.__table__)
    .on_conflict_do_nothing(index_elements=["ledger_key"])
    .returning(OutboxRow.__table__.c.ledger_key)
    for name, dialect_insert in (("sqlite", sqlite_insert), ("postgresql", pg_insert))
}


async def record_outbox(connection: AsyncConnection, messages: list[dict[str, Any]]) -> set[str]:
    """Store delivered messages, in one statement; the ledger keys of those stored, without those the
    outbox already had (a retried send). Not committed: the dispatcher commits them with the sends'
    ledger rows."""
    return set(await connection.scalars(_OUTBOX_INSERT[connection.dialect.name], messages))


async def list_incidents(
    session: AsyncSession, phase: str | None = None, scenario: str | None = None, status: str | None = None, limit: int = 200
) -> list[IncidentRow]:
    query = select(IncidentRow).order_by(IncidentRow.declared_at.desc()).limit(limit)
    if phase:
        query = query.where(IncidentRow.phase == phase)
    if scenario:
        query = query.where(IncidentRow.scenario == scenario)
    if status:
        query = query.where(IncidentRow.status == status)
    return list((await session.scalars(query)).all())


async def get_incident(session: AsyncSession, incident_id: str) -> IncidentRow | None:
    return await session.get(IncidentRow, incident_id)


async def list_timeline(session: AsyncSession, incident_id: str) -> list[TimelineRow]:
    query = select(TimelineRow).where(TimelineRow.incident_id == incident_id).order_by(TimelineRow.seq)
    return list((await session.scalars(query)).all())


async def list_outbox(session: AsyncSession, incident_id: str | None = None, limit: int = 500) -> list[OutboxRow]:
    query = select(OutboxRow).order_by(OutboxRow.id.desc()).limit(limit)
    if incident_id:
        query = query.where(OutboxRow.incident_id == incident_id)
    return list((await session.scalars(query)).all())


# ---- counts for /metrics (computed at scrape time from the read model) ----------------------

PAGE_KIND = "page"


async def count_open_incidents(session: AsyncSession) -> dict[tuple[str, bool], int]:
    """Open incidents by (phase, drill)."""
    query = (
        select(IncidentRow.phase, IncidentRow.drill, func.count())
        .where(IncidentRow.status == "open")
        .group_by(IncidentRow.phase, IncidentRow.drill)
    )
    return {(phase, bool(drill)): count for phase, drill, count in (await session.execute(query)).all()}


async def count_notifications(session: AsyncSession) -> dict[tuple[str, str, str, bool], int]:
    """Messages to people and the public by (channel, kind, delivery status, drill); pages are
    the ``kind == "page"`` ones.

    The one place that knows where delivery status lives. Today that is the outbox, which keeps
    only what it delivered, so every message counts as ``sent``; when sends are read from the
    notification ledger (queued, sent, delivered, failed), only this query changes."""
    query = select(OutboxRow.channel, OutboxRow.kind, OutboxRow.drill, func.count()).group_by(
        OutboxRow.channel, OutboxRow.kind, OutboxRow.drill
    )
    return {(channel, kind, "sent", bool(drill)): count for channel, kind, drill, count in (await session.execute(query)).all()}


def deadline_kind(name: str) -> str:
    """``acknowledge.incident_commander`` → ``acknowledge``; ``task.lock_account`` → ``task``:
    a bounded label, whatever the playbooks name their roles and tasks."""
    return name.split(".", 1)[0] or "unknown"


async def count_missed_deadlines(session: AsyncSession) -> dict[tuple[str, bool], int]:
    """Missed deadlines (timeline events ``deadline_missed``) by (kind of deadline, drill)."""
    name = TimelineRow.data["deadline"].as_string()
    query = (
        select(name, IncidentRow.drill, func.count())
        .select_from(TimelineRow)
        .join(IncidentRow, IncidentRow.id == TimelineRow.incident_id, isouter=True)
        .where(TimelineRow.kind == EventKind.DEADLINE_MISSED.value)
        .group_by(name, IncidentRow.drill)
    )
    counts: dict[tuple[str, bool], int] = {}
    for deadline, drill, count in (await session.execute(query)).all():
        key = (deadline_kind(deadline or ""), bool(drill))
        counts[key] = counts.get(key, 0) + count
    return counts


async def add_subscriber(session: AsyncSession, incident_id: str, email: str, name: str | None) -> bool:
    """False when the address already follows the incident."""
    statement = _insert(session, SubscriberRow).values(
        incident_id=incident_id, email=email, name=name, created_at=datetime.now(timezone.utc)
    )
    result = await session.execute(statement.on_conflict_do_nothing(index_elements=["incident_id", "email"]))
    await session.commit()
    return bool(result.rowcount)


async def list_subscribers(session: AsyncSession, incident_id: str) -> list[SubscriberRow]:
    query = select(SubscriberRow).where(SubscriberRow.incident_id == incident_id).order_by(SubscriberRow.id)
    return list((await session.scalars(query)).all())


async def incidents_with_data_errors(session: AsyncSession, limit: int = 20) -> list[str]:
    """Open incidents whose timeline says the database refused some of their data (``data_error``)."""
    query = (
        select(TimelineRow.incident_id)
        .join(IncidentRow, IncidentRow.id == TimelineRow.incident_id)
        .where(TimelineRow.kind == EventKind.DATA_ERROR.value, IncidentRow.status == "open")
        .distinct()
        .order_by(TimelineRow.incident_id)
        .limit(limit)
    )
    return list((await session.scalars(query)).all())
