"""The notification ledger: every attempt to send a message, and what became of it.

One row per attempt of one ledger key (workflow id / activity id / channel). The dispatcher writes
``queued`` before it calls a provider and ``sent`` (with the provider's message id) or ``failed``
after; the providers' delivery webhooks move a sent row on to ``delivered`` or ``failed``. The
outbox is the exception: it is a table of the same database, so its attempt is written ``sent``
in the transaction that stores the message.
"""

from dataclasses import dataclass
from datetime import datetime, timezone
from enum import StrEnum

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from store.models import NotificationRow


class LedgerStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"


ACCEPTED = (LedgerStatus.SENT, LedgerStatus.DELIVERED)


def _now() -> datetime:
    return datetime.now(timezone.utc)


async def accepted_attempt(session: AsyncSession, ledger_key: str, provider: str | None = None) -> NotificationRow | None:
    """The attempt a provider accepted for this key, if any: sent, delivered, or failed later by
    a delivery webhook (the provider took it, so it is not sent again)."""
    query = select(NotificationRow).where(NotificationRow.ledger_key == ledger_key, NotificationRow.accepted_at.is_not(None))
    if provider is not None:
        query = query.where(NotificationRow.provider == provider)
    return (await session.scalars(query.order_by(NotificationRow.attempt.desc()).limit(1))).first()


# The send path's statements: Core statements on the table, built once with bound parameters and
# run on a connection (the dispatcher's transaction), so each send pays neither the ORM session's
# execution and unit of work nor the building and cache-keying of a new statement.
LEDGER = NotificationRow.__table__
_HISTORIES = (
    select(LEDGER.c.ledger_key, LEDGER.c.attempt, LEDGER.c.accepted_at, LEDGER.c.provider, LEDGER.c.provider_id)
    .where(LEDGER.c.ledger_key.in_(bindparam("keys", expanding=True)))
    .order_by(LEDGER.c.ledger_key, LEDGER.c.attempt.desc())
)
# Each row's id comes back with its key, in any order: asked in the rows' order, SQLite's would
# insert them one statement a row.
_ADD_RETURNING = insert(LEDGER).returning(LEDGER.c.id, LEDGER.c.ledger_key)
_FINISH = update(LEDGER).where(LEDGER.c.id == bindparam("row_id"))


@dataclass(frozen=True)
class KeyHistory:
    """What the ledger knows of one ledger key, from one read."""

    accepted: Row | None  # attempt, provider and provider_id of the attempt a provider took, if any
    next_attempt: int

    @classmethod
    def of(cls, attempts: list[Row]) -> "KeyHistory":
        """From a key's attempts, newest first."""
        accepted = next((row for row in attempts if row.accepted_at is not None), None)
        return cls(accepted=accepted, next_attempt=(attempts[0].attempt if attempts else 0) + 1)


async def key_histories(connection: AsyncConnection, ledger_keys: list[str]) -> dict[str, KeyHistory]:
    """The attempts of each key so far, in one read (a send, or a batch of them): whether a provider
    accepted one (sent, delivered, or failed later by a delivery webhook: either way it is not sent
    again) and the next attempt's number."""
    rows = (await connection.execute(_HISTORIES, {"keys": ledger_keys})).all()
    found: dict[str, list[Row]] = {}
    for row in rows:
        found.setdefault(row.ledger_key, []).append(row)
    return {key: KeyHistory.of(found.get(key, [])) for key in ledger_keys}


def attempt_row(
    history: KeyHistory,
    *,
    ledger_key: str,
    incident_id: str,
    person_id: str | None,
    channel: str,
    kind: str,
    provider: str,
    status: LedgerStatus = LedgerStatus.QUEUED,
    provider_id: str | None = None,
) -> dict:
    """The values of a new attempt's row, for :func:`add_attempts`."""
    now = _now()
    return {
        "ledger_key": ledger_key,
        "incident_id": incident_id,
        "person_id": person_id,
        "channel": channel,
        "kind": kind,
        "attempt": history.next_attempt,
        "status": status.value,
        "provider": provider,
        "provider_id": provider_id,
        "created_at": now,
        "updated_at": now,
        "accepted_at": now if status in ACCEPTED else None,
    }


async def add_attempts(connection: AsyncConnection, rows: list[dict]) -> list[int]:
    """New attempts (:func:`attempt_row`) of distinct ledger keys, in one statement; their row ids in
    the same order. Not committed."""
    if not rows:
        return []
    ids = {key: row_id for row_id, key in await connection.execute(_ADD_RETURNING, rows)}
    if len(ids) != len(rows):
        raise ValueError("the attempts added together must be of distinct ledger keys")
    return [ids[row["ledger_key"]] for row in rows]


@dataclass(frozen=True)
class Finished:
    """What became of one ``queued`` attempt: ``sent`` (with the provider's id) or ``failed`` (with why)."""

    row_id: int
    status: LedgerStatus
    provider_id: str | None = None
    error: str | None = None


async def finish_attempts(connection: AsyncConnection, finished: list[Finished]) -> None:
    """Record what the providers answered for these ``queued`` attempts, in one statement. A queued
    row has no provider id or acceptance yet, so every row gets all of its columns set. Not committed."""
    now = _now()
    await connection.execute(
        _FINISH,
        [
            {
                "row_id": item.row_id,
                "status": item.status.value,
                "updated_at": now,
                "error": item.error,
                "provider_id": item.provider_id,
                "accepted_at": now if item.status in ACCEPTED else None,
            }
            for item in finished
        ],
    )


async def attempts(session: AsyncSession, ledger_key: str | None = None, incident_id: str | None = None) -> list[NotificationRow]:
    query = select(NotificationRow).order_by(NotificationRow.id)
    if ledger_key is not None:
        query = query.where(NotificationRow.ledger_key == ledger_key)
    if incident_id is not None:
        query = query.where(NotificationRow.incident_id == incident_id)
    return list((await session.scalars(query)).all())


async def find_by_provider_id(session: AsyncSession, provider: str, provider_id: str) -> NotificationRow | None:
    query = select(NotificationRow).where(NotificationRow.provider == provider, NotificationRow.provider_id == provider_id)
    return (await session.scalars(query.order_by(NotificationRow.id.desc()).limit(1))).first()


async def mark_delivered(session: AsyncSession, row_id: int) -> bool:
    """sent → delivered. A row already failed or delivered stays as it is. Not committed."""
    result = await session.execute(
        update(NotificationRow)
        .where(NotificationRow.id == row_id, NotificationRow.status == LedgerStatus.SENT.value)
        .values(status=LedgerStatus.DELIVERED.value, updated_at=_now())
    )
    return bool(result.rowcount)


async def mark_failed(session: AsyncSession, row_id: int, error: str) -> bool:
    """sent or delivered → failed (an email can bounce after its server took it). True only for
    the call that made the change, so exactly one webhook reacts to a failure. Not committed:
    the caller commits once it has acted on it."""
    result = await session.execute(
        update(NotificationRow)
        .where(NotificationRow.id == row_id, NotificationRow.status != LedgerStatus.FAILED.value)
        .values(status=LedgerStatus.FAILED.value, error=error, updated_at=_now())
    )
    return bool(result.rowcount)


@dataclass(frozen=True)
class TargetState:
    """Where one statement stands on one publishing target, from its ledger attempts."""

    ledger_key: str
    target: str
    kind: str
    status: str  # sent (published), queued (a try under way), failed (the last try failed)
    attempts: int
    error: str | None
    provider_id: str | None

    @property
    def retrying(self) -> bool:
        return self.status == "failed" and bool(self.error) and self.error.startswith(("transient", "unexpected"))


async def publishing_state(session: AsyncSession, incident_id: str) -> list[TargetState]:
    """Each publication of the incident's statements, per target, as its latest ledger attempt says
    (the incident page shows a target still being retried and why, while the others are out)."""
    rows = await attempts(session, incident_id=incident_id)
    latest: dict[str, tuple[NotificationRow, int]] = {}
    for row in rows:
        if row.channel != "public" or not row.kind.startswith("statement."):
            continue
        accepted = latest.get(row.ledger_key)
        if accepted is not None and accepted[0].status in ("sent", "delivered"):
            latest[row.ledger_key] = (accepted[0], accepted[1] + 1)
            continue
        latest[row.ledger_key] = (row, (accepted[1] if accepted else 0) + 1)
    return [
        TargetState(
            key,
            key.rsplit("/", 1)[-1],
            row.kind,
            "sent" if row.status in ("sent", "delivered") else row.status,
            count,
            row.error,
            row.provider_id,
        )
        for key, (row, count) in latest.items()
    ]
