"""Inbound provider messages that were acted on: a replayed one is recognised by its provider id."""

from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import AsyncSession

from store.models import InboundMessageRow
from store.service import _insert


async def claim(session: AsyncSession, provider: str, provider_id: str, person_id: str | None) -> bool:
    """Record the message as taken; False when it was taken before (a replay). Committed at once, so
    of two concurrent deliveries of one message exactly one goes on."""
    statement = (
        _insert(session, InboundMessageRow)
        .values(provider=provider, provider_id=provider_id, person_id=person_id, received_at=datetime.now(timezone.utc))
        .on_conflict_do_nothing(index_elements=["provider", "provider_id"])
    )
    taken = bool((await session.execute(statement)).rowcount)
    await session.commit()
    return taken
