"""Action links: minting, looking up and spending single-use tokens."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import ActionTokenRow

TOKEN_BYTES = 32  # 256 random bits
TOKENS = ActionTokenRow.__table__  # plain SQL statements on the send path


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Minted:
    token: str
    code: str


async def mint(
    session: AsyncSession, *, ledger_key: str, incident_id: str, person_id: str, purpose: str, ttl: timedelta,
    version: int | None = None,
) -> Minted:
    """A fresh token for one send. A retried send (same ledger key) replaces the unsent token, so
    exactly one link per page is ever valid. Not committed: the dispatcher commits it with the
    send's ledger row, so a link exists exactly when an attempt to send it is recorded."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = datetime.now(timezone.utc)
    open_codes = set(
        await session.scalars(
            select(TOKENS.c.code).where(TOKENS.c.person_id == person_id, TOKENS.c.used_at.is_(None), TOKENS.c.expires_at > now)
        )
    )
    code = next(c for c in (f"{secrets.randbelow(10000):04d}" for _ in range(100)) if c not in open_codes)
    fresh = {"token_hash": token_hash(token), "code": code, "created_at": now, "expires_at": now + ttl}
    dialect_insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        dialect_insert(TOKENS)
        .values(ledger_key=ledger_key, incident_id=incident_id, person_id=person_id, purpose=purpose, version=version, **fresh)
        .on_conflict_do_update(index_elements=[TOKENS.c.ledger_key], set_=fresh)
    )
    return Minted(token=token, code=code)


async def find(session: AsyncSession, token: str) -> ActionTokenRow | None:
    return await session.scalar(select(ActionTokenRow).where(ActionTokenRow.token_hash == token_hash(token)))


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

