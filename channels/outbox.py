"""The default channel: messages are stored (shown at ``/outbox``) and printed, never sent out."""

import logging
from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker

from channels.base import Delivery, OutgoingMessage
from store.service import record_outbox

log = logging.getLogger("crisisflow.outbox")


class OutboxChannel:
    """A channel whose provider is the database: besides ``send``, ``store_all`` writes messages in
    the caller's transaction, where the dispatcher puts their ledger rows and action links too."""

    name = "outbox"

    def __init__(self, sessions: async_sessionmaker):
        self._sessions = sessions

    async def send(self, message: OutgoingMessage) -> Delivery:
        async with self._sessions() as session:
            (delivery,) = await self.store_all(await session.connection(), [message])
            await session.commit()
        return delivery

    async def store_all(self, connection: AsyncConnection, messages: list[OutgoingMessage]) -> list[Delivery]:
        now = datetime.now(timezone.utc)
        stored = await record_outbox(
            connection,
            [
                {
                    "ledger_key": message.ledger_key,
                    "incident_id": message.incident_id,
                    "person_id": message.person_id,
                    "channel": message.channel.value,
                    "kind": message.kind,
                    "subject": message.subject,
                    "body": message.body,
                    "links": [link.model_dump() for link in message.links],
                    "drill": message.drill,
                    "created_at": now,
                }
                for message in messages
            ],
        )
        for message in messages:
            if message.ledger_key in stored:
                who = message.person_id or "the public"
                log.info("outbox %s → %s: %s", message.channel.value, who, message.subject)
        return [Delivery(channel=self.name, accepted=True, duplicate=message.ledger_key not in stored) for message in messages]
