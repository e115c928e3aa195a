"""Every send goes through the dispatcher: the notification ledger around any channel.

An activity retry re-runs the whole ``notify``; the ledger makes that safe. Before a provider is
called the attempt is recorded as ``queued``; once the provider has accepted the message the row
becomes ``sent`` with the provider's id, and from then on the same ledger key is answered with
``Delivery(duplicate=True)`` without calling the provider again.

One transaction before the provider call and one after, whatever the channel: the ledger read,
the action link the message carries (``compose``) and the ``queued`` row are committed together,
so a link exists exactly when an attempt to send it is recorded. Both are Core statements on a
connection of the sessions' engine (an ORM session adds CPU to each, on the path of every page).
The outbox is a table of the same database, so there the message itself joins that transaction and
the row is written ``sent``: one transaction in all. Sends made together (``send_all``: a person's
channels, a batch of pages) share them: one transaction before the calls for all, and the answers
recorded as they come. In that transaction each kind of row is one statement for all the sends
(their ledger read, their links' codes, links, outbox rows, ledger rows): most of a statement's
CPU is the trip through asyncio and the driver, whatever it writes.

Once a provider has been called, its answer is recorded even if the caller is cancelled
meanwhile: a send activity cut off by its timeout on a starved worker would otherwise leave an
accepted message ``queued``, and its retry would send it again.

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
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import async_sessionmaker

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
from store import ledger, tokens
from store.ledger import LedgerStatus

log = logging.getLogger("crisisflow.dispatch")

# Within the send activities' 30 s start-to-close timeout, with room for the other channel.
RECORD_ACCEPTED_S = 20.0

# Completes a message inside the send's transaction, when it is really going to be sent: mints the
# action link it carries, with the transaction's links.
Compose = Callable[[tokens.Links, OutgoingMessage], Awaitable[OutgoingMessage]]


class Dispatcher:
    def __init__(self, sessions: async_sessionmaker, channels: dict[ChannelKind, Channel]):
        self._engine = sessions.kw["bind"]  # the send path's transactions are on its connections
        self._channels = channels

    def channel(self, kind: ChannelKind) -> Channel:
        return self._channels[kind]

    async def send(self, message: OutgoingMessage, compose: Compose | None = None) -> Delivery:
        (outcome,) = await self.send_all([(message, compose)])
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async def send_all(self, sends: Sequence[tuple[OutgoingMessage, Compose | None]]) -> list[Delivery | Exception]:
        """Several sends (a batch of pages: issue 22 #4), each as :meth:`send` would make it, each
        answered with its delivery or the error :meth:`send` would raise. The ledger reads, links and
        ``queued`` rows of them all are one transaction; the providers are then called all at once,
        and their answers recorded as they come, those that came while the last were being written
        in one transaction. Once a provider has been called, its answer is recorded even if the
        caller is cancelled meanwhile (a timed-out activity): cut off there, an accepted send would
        stay ``queued`` and go again on the retry."""
        outcomes: list[Delivery | Exception | None] = [None] * len(sends)
        calls = await self._prepare(sends, outcomes)
        if calls:
            await asyncio.shield(asyncio.ensure_future(self._call_and_record(calls, outcomes)))
        return outcomes

    async def _prepare(self, sends: Sequence[tuple[OutgoingMessage, Compose | None]], outcomes: list) -> list["_Call"]:
        """The transaction before the providers are called. Should it fail (data the database refuses,
        a channel's store failing), it is rolled back and each send is prepared alone, so one send's
        failure is its own."""
        keys = [message.ledger_key for message, _ in sends]
        if len(sends) > 1 and len(set(keys)) == len(keys):
            try:
                return await self._prepare_together(list(enumerate(sends)), outcomes)
            except Exception:
                log.info("%d sends prepared together failed: each is prepared alone", len(sends), exc_info=True)
        calls = []
        for index, send in enumerate(sends):
            try:
                calls += await self._prepare_together([(index, send)], outcomes)
            except Exception as error:
                outcomes[index] = error
        return calls

    async def _prepare_together(
        self, sends: list[tuple[int, tuple[OutgoingMessage, Compose | None]]], outcomes: list
    ) -> list["_Call"]:
        answered: dict[int, Delivery] = {}
        attempts: list[dict] = []
        calls: list[_Call] = []
        stored: dict[StoredChannel, list[tuple[int, OutgoingMessage, ledger.KeyHistory, dict]]] = {}  # stored together
        async with self._engine.begin() as connection:
            histories = await ledger.key_histories(connection, [message.ledger_key for _, (message, _) in sends])
            links = tokens.Links(connection)
            linked = Counter(message.person_id for _, (message, compose) in sends if compose is not None and message.person_id)
            if linked:
                await links.draw_codes(linked)  # the links' reply codes, checked once for all
            for index, (message, compose) in sends:
                channel = self._channels[message.channel]
                history = histories[message.ledger_key]
                if (accepted := history.accepted) is not None:
                    log.info(
                        "%s already accepted by %s (attempt %d): not sent again",
                        message.ledger_key,
                        accepted.provider,
                        accepted.attempt,
                    )
                    answered[index] = Delivery(
                        channel=accepted.provider, accepted=True, duplicate=True, provider_id=accepted.provider_id
                    )
                    continue
                if compose is not None:
                    message = await compose(links, message)
                attempt = {
                    "ledger_key": message.ledger_key,
                    "incident_id": message.incident_id,
                    "person_id": message.person_id,
                    "channel": message.channel.value,
                    "kind": message.kind,
                    "provider": channel.name,
                }
                if isinstance(channel, StoredChannel):
                    stored.setdefault(channel, []).append((index, message, history, attempt))
                else:
                    attempts.append(ledger.attempt_row(history, **attempt))
                    calls.append(_Call(index, message, channel, len(attempts) - 1, history.next_attempt))
            for channel, messages in stored.items():
                deliveries = await channel.store_all(connection, [message for _, message, _, _ in messages])
                for (index, _, history, attempt), delivery in zip(messages, deliveries, strict=True):
                    attempts.append(
                        ledger.attempt_row(history, **attempt, status=LedgerStatus.SENT, provider_id=delivery.provider_id)
                    )
                    answered[index] = delivery
            await links.write()
            row_ids = await ledger.add_attempts(connection, attempts)
        for index, delivery in answered.items():
            outcomes[index] = delivery
        for call in calls:
            call.row_id = row_ids[call.row_id]
        return calls

    async def _call_and_record(self, calls: list["_Call"], outcomes: list) -> None:
        pending = {asyncio.ensure_future(self._call(call)): call for call in calls}
        while pending:
            done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            answers = [(pending.pop(task), task.result()) for task in done]
            recorded = await self._record([finished for _, (finished, _) in answers], [call for call, _ in answers])
            for call, (_, outcome) in answers:
                outcomes[call.index] = outcome if recorded is None else recorded

    async def _call(self, call: "_Call") -> tuple[ledger.Finished, Delivery | Exception]:
        """One provider call: what the ledger records of it, and what the caller is answered."""
        message, channel = call.message, call.channel
        try:
            delivery = await channel.send(message)
        except DeliveryError as error:
            kind = "transient" if isinstance(error, TransientDeliveryError) else "permanent"
            log.warning(
                "%s attempt %d via %s failed (%s): %s", message.ledger_key, call.attempt, channel.name, kind, error.reason
            )
            return ledger.Finished(call.row_id, LedgerStatus.FAILED, error=f"{kind}: {error.reason}"), error
        except Exception as error:
            # A bug or an unforeseen library error: recorded, then retried like a transient one.
            return ledger.Finished(
                call.row_id, LedgerStatus.FAILED, error=f"unexpected: {type(error).__name__}: {redact(str(error))}"
            ), error
        return ledger.Finished(call.row_id, LedgerStatus.SENT, provider_id=delivery.provider_id), delivery

    async def _record(self, finished: list[ledger.Finished], calls: list["_Call"]) -> Exception | None:
        """Write the providers' answers, in one transaction. Once a provider has accepted a message,
        the write is retried for up to ``RECORD_ACCEPTED_S`` while the database does not answer; the
        error that outlasts it is every send's answer (the retry will send again)."""
        loop = asyncio.get_running_loop()
        deadline, pause = loop.time() + RECORD_ACCEPTED_S, 0.2
        accepted = any(item.status is LedgerStatus.SENT for item in finished)
        while True:
            try:
                async with self._engine.begin() as connection:
                    await ledger.finish_attempts(connection, finished)
                return None
            except Exception as error:  # every send's answer: the other calls still get recorded
                keys = ", ".join(call.message.ledger_key for call in calls)
                if not accepted or not isinstance(error, (DBAPIError, OSError)) or loop.time() + pause > deadline:
                    if accepted:
                        log.error("%s: accepted but the ledger cannot record it: a retry will send it again", keys)
                    return error
                log.warning(
                    "%s: accepted; the database does not answer, recording it again in %.1f s: %s",
                    keys,
                    pause,
                    type(error).__name__,
                )
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)


@dataclass
class _Call:
    """A send whose ``queued`` row is written: its provider is to be called."""

    index: int  # in the caller's list of sends
    message: OutgoingMessage
    channel: Channel
    row_id: int
    attempt: int
