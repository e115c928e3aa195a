"""Action links: minting, looking up and spending single-use tokens."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import ActionTokenRow

TOKEN_BYTES = 32  # 256 random bits


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
    exactly one link per page is ever valid."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = datetime.now(timezone.utc)
    open_codes = set(
        await session.scalars(
            select(ActionTokenRow.code).where(
                ActionTokenRow.person_id == person_id, ActionTokenRow.used_at.is_(None), ActionTokenRow.expires_at > now
            )
        )
    )
    code = next(c for c in (f"{secrets.randbelow(10000):04d}" for _ in range(100)) if c not in open_codes)
    row = await session.scalar(select(ActionTokenRow).where(ActionTokenRow.ledger_key == ledger_key))
    if row is None:
        row = ActionTokenRow(ledger_key=ledger_key, incident_id=incident_id, person_id=person_id, purpose=purpose, version=version)
        session.add(row)
    row.token_hash, row.code, row.created_at, row.expires_at = token_hash(token), code, now, now + ttl
    await session.commit()
    return Minted(token=token, code=code)


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

