"""Every send goes through the dispatcher: the notification ledger around any channel.

An activity retry re-runs the whole ``notify``; the ledger makes that safe. Before a provider is
called the attempt is recorded as ``queued``; once the provider has accepted the message the row
becomes ``sent`` with the provider's id, and from then on the same ledger key is answered with
``Delivery(duplicate=True)`` without calling the provider again.

One transaction before the provider call and one after, whatever the channel: the ledger read,
the action link the message carries (``compose``) and the ``queued`` row are committed together,
so a link exists exactly when an attempt to send it is recorded. The outbox is a table of the same
database, so there the message itself joins that transaction and the row is written ``sent``:
one transaction in all.

Once the provider has accepted, writing ``sent`` is retried for up to ``RECORD_ACCEPTED_S`` while
the database does not answer (a restart, a failover): giving up at once would leave the row
``queued`` and the activity's retry would send the message again.

What remains is an at-least-once window: a crash (or a lost connection, or a client timeout) after
the provider accepted the message but before ``sent`` is written, or a database away for longer
than ``RECORD_ACCEPTED_S``, leaves the row ``queued``, and the retry sends again. Neither Twilio's
Messages API nor SendGrid's mail send takes an idempotency key that would close it.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from channels.base import (
    Channel,
    ChannelKind,
    Delivery,
    DeliveryError,
    OutgoingMessage,
    StoredChannel,
    TransientDeliveryError,
    redact,
)
from store import ledger
from store.ledger import LedgerStatus

log = logging.getLogger("crisisflow.dispatch")

# Within the send activities' 30 s start-to-close timeout, with room for the other channel.
RECORD_ACCEPTED_S = 20.0

# Completes a message inside the send's transaction, when it is really going to be sent (e.g.
# mints the action link it carries); may write, never commits.
Compose = Callable[[AsyncSession, OutgoingMessage], Awaitable[OutgoingMessage]]


class Dispatcher:
    def __init__(self, sessions: async_sessionmaker, channels: dict[ChannelKind, Channel]):
        self._sessions = sessions
        self._channels = channels

    def channel(self, kind: ChannelKind) -> Channel:
        return self._channels[kind]

    async def send(self, message: OutgoingMessage, compose: Compose | None = None) -> Delivery:
        channel = self._channels[message.channel]
        async with self._sessions() as session:
            history = await ledger.key_history(session, message.ledger_key)
            if (accepted := history.accepted) is not None:
                log.info(
                    "%s already accepted by %s (attempt %d): not sent again",
                    message.ledger_key,
                    accepted.provider,
                    accepted.attempt,
                )
                return Delivery(channel=accepted.provider, accepted=True, duplicate=True, provider_id=accepted.provider_id)
            if compose is not None:
                message = await compose(session, message)
            attempt = {
                "ledger_key": message.ledger_key,
                "incident_id": message.incident_id,
                "person_id": message.person_id,
                "channel": message.channel.value,
                "kind": message.kind,
                "provider": channel.name,
            }
            if isinstance(channel, StoredChannel):
                delivery = await channel.store(session, message)
                await ledger.add_attempt(session, history, **attempt, status=LedgerStatus.SENT, provider_id=delivery.provider_id)
                await session.commit()
                return delivery
            row_id, number = await ledger.add_attempt(session, history, **attempt), history.next_attempt
            await session.commit()
        try:
            delivery = await channel.send(message)
        except DeliveryError as error:
            kind = "transient" if isinstance(error, TransientDeliveryError) else "permanent"
            await self._finish(row_id, LedgerStatus.FAILED, error=f"{kind}: {error.reason}")
            log.warning("%s attempt %d via %s failed (%s): %s", message.ledger_key, number, channel.name, kind, error.reason)
            raise
        except Exception as error:
            # A bug or an unforeseen library error: recorded, then retried like a transient one.
            await self._finish(row_id, LedgerStatus.FAILED, error=f"unexpected: {type(error).__name__}: {redact(str(error))}")
            raise
        await self._record_accepted(message.ledger_key, row_id, delivery.provider_id)
        return delivery

    async def _record_accepted(self, ledger_key: str, row_id: int, provider_id: str | None) -> None:
        loop = asyncio.get_running_loop()
        deadline, pause = loop.time() + RECORD_ACCEPTED_S, 0.2
        while True:
            try:
                return await self._finish(row_id, LedgerStatus.SENT, provider_id=provider_id)
            except (DBAPIError, OSError) as error:
                if loop.time() + pause > deadline:
                    log.error(
                        "%s was accepted (%s) but the ledger cannot record it: a retry will send it again",
                        ledger_key,
                        provider_id,
                    )
                    raise
                log.warning(
                    "%s was accepted (%s); the database does not answer, recording it again in %.1f s: %s",
                    ledger_key,
                    provider_id,
                    pause,
                    type(error).__name__,
                )
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)

    async def _finish(self, row_id: int, status: LedgerStatus, provider_id: str | None = None, error: str | None = None) -> None:
        async with self._sessions() as session:
            await ledger.finish_attempt(session, row_id, status=status, provider_id=provider_id, error=error)
