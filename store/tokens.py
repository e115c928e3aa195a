"""Action links: minting, looking up and spending single-use tokens."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import ActionTokenRow

TOKEN_BYTES = 32  # 256 random bits
# The send path's statements, built once with bound parameters (see store/ledger.py).
TOKENS = ActionTokenRow.__table__
_OPEN_CODES = select(TOKENS.c.code).where(
    TOKENS.c.person_id == bindparam("person"), TOKENS.c.used_at.is_(None), TOKENS.c.expires_at > bindparam("now")
)
_OPEN_CODES_OF = select(TOKENS.c.person_id, TOKENS.c.code).where(
    TOKENS.c.person_id.in_(bindparam("people", expanding=True)),
    TOKENS.c.used_at.is_(None),
    TOKENS.c.expires_at > bindparam("now"),
)
_FRESH = ("token_hash", "code", "created_at", "expires_at")  # what a retried send replaces
OPEN_CODES = "crisisflow.open_codes"  # session.info: the open codes of the people a transaction mints for (read_open_codes)


def _upserts():
    """Insert a send's token, or replace the unsent one of an earlier attempt: per dialect."""
    statements = {}
    for name, dialect_insert in (("sqlite", sqlite_insert), ("postgresql", pg_insert)):
        statement = dialect_insert(TOKENS)
        statements[name] = statement.on_conflict_do_update(
            index_elements=[TOKENS.c.ledger_key], set_={column: statement.excluded[column] for column in _FRESH}
        )
    return statements


_UPSERT = _upserts()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Minted:
    token: str
    code: str


async def mint(
    session: AsyncSession,
    *,
    ledger_key: str,
    incident_id: str,
    person_id: str,
    purpose: str,
    ttl: timedelta,
    version: int | None = None,
) -> Minted:
    """A fresh token for one send. A retried send (same ledger key) replaces the unsent token, so
    exactly one link per page is ever valid. Not committed: the dispatcher commits it with the
    send's ledger row, so a link exists exactly when an attempt to send it is recorded."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = datetime.now(timezone.utc)
    known = session.info.get(OPEN_CODES, {})
    open_codes = known.get(person_id)
    if open_codes is None:
        open_codes = set(await session.scalars(_OPEN_CODES, {"person": person_id, "now": now}))
    code = next(c for c in (f"{secrets.randbelow(10000):04d}" for _ in range(100)) if c not in open_codes)
    if person_id in known:
        open_codes.add(code)
    await session.execute(
        _UPSERT[session.bind.dialect.name],
        {
            "ledger_key": ledger_key,
            "incident_id": incident_id,
            "person_id": person_id,
            "purpose": purpose,
            "version": version,
            "token_hash": token_hash(token),
            "code": code,
            "created_at": now,
            "expires_at": now + ttl,
        },
    )
    return Minted(token=token, code=code)


async def read_open_codes(session: AsyncSession, person_ids: set[str]) -> None:
    """Read the open codes of these people in one statement, for the :func:`mint` calls that follow in
    this session's transaction (a batch of pages: one read, not one a send); each mint adds its own."""
    known: dict[str, set[str]] = {person: set() for person in person_ids}
    rows = await session.execute(_OPEN_CODES_OF, {"people": list(person_ids), "now": datetime.now(timezone.utc)})
    for person, code in rows:
        known[person].add(code)
    session.info[OPEN_CODES] = known


async def find(session: AsyncSession, token: str) -> ActionTokenRow | None:
    """The token's row. Looked up by hash (so the lookup's timing is about the hash, never the
    token), then compared in constant time."""
    wanted = token_hash(token)
    row = await session.scalar(select(ActionTokenRow).where(ActionTokenRow.token_hash == wanted))
    return row if row is not None and hmac.compare_digest(row.token_hash, wanted) else None


async def open_for_person(session: AsyncSession, person_id: str, purpose: str) -> list[ActionTokenRow]:
    now = datetime.now(timezone.utc)
    query = (
        select(ActionTokenRow)
        .where(
            ActionTokenRow.person_id == person_id,
            ActionTokenRow.purpose == purpose,
            ActionTokenRow.used_at.is_(None),
            ActionTokenRow.expires_at > now,
        )
        .order_by(ActionTokenRow.created_at.desc())
    )
    return list(await session.scalars(query))


async def spend(session: AsyncSession, row: ActionTokenRow, outcome: str) -> None:
    """Mark a token used (first use wins; a second concurrent use keeps the first outcome)."""
    await session.execute(
        update(ActionTokenRow)
        .where(ActionTokenRow.id == row.id, ActionTokenRow.used_at.is_(None))
        .values(used_at=datetime.now(timezone.utc), outcome=outcome)
    )
    await session.commit()


async def for_send(session: AsyncSession, ledger_key: str) -> ActionTokenRow | None:
    """The token minted for one send (a phone call's page, found from its ledger row)."""
    return await session.scalar(select(ActionTokenRow).where(ActionTokenRow.ledger_key == ledger_key))
