"""The incident in the team's chat: Slack and Microsoft Teams, beside SMS, email and calls.

Two things reach the chat, both through the notification ledger (each send has a stable ledger key,
so a retried activity never posts twice):

- **The incident's room** (``mirror``, from the projection activity, which sees every timeline
  event): in Slack a channel of its own (created on the first projection, the summary pinned),
  each person invited as they are paged, and a line for every phase change, statement, decision,
  publication and missed deadline; when the incident closes, the report link, then the channel
  is archived. Teams gets the same lines as Adaptive Cards in its channel.
- **Pages and approval requests** (``ask``, from the notify activity): in Slack a direct message
  with buttons (Acknowledge; Approve / Request changes) carrying the send's own single-use token;
  in Teams a card whose buttons open the send's own action link.

The chat is a copy, never the only way: a chat outage is logged and its ledger row says why, but it
neither fails the page (SMS, email and calls carry it) nor holds up the read model. No send of a room's
update starts after ``budget`` seconds (a hanging chat cannot keep the projection activity, and so
the next projection, waiting long); a page's chat copies go out beside its SMS and email.
"""

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import async_sessionmaker

from activities.models import IncidentSummary
from channels.base import Channel, ChatKind, Delivery, Link, OutgoingMessage
from channels.dispatch import Compose, Dispatcher
from domain.events import EventKind
from domain.incident import TimelineEvent
from domain.messages import Notice

log = logging.getLogger("crisisflow.chat")

# The timeline events the room hears about.
MIRRORED = {
    EventKind.PHASE_CHANGED,
    EventKind.ACKNOWLEDGED,
    EventKind.ASSESSED,
    EventKind.ESCALATION_EXHAUSTED,
    EventKind.DEADLINE_MISSED,
    EventKind.STATEMENT_DRAFTED,
    EventKind.STATEMENT_APPROVED_BY,
    EventKind.STATEMENT_APPROVED,
    EventKind.STATEMENT_REJECTED,
    EventKind.STATEMENT_PUBLISHED,
    EventKind.PUBLICATION_FAILED,
    EventKind.FALLBACK_STATEMENT,
    EventKind.RESOLVED,
}
ASKS = {"page", "approval"}  # notices that arrive in the chat with buttons


class OutOfTime(Exception):
    reason = "out of time: the rest of this update is not posted"


class _Budgeted:
    """A dispatcher that starts no send after ``deadline`` (loop time): nothing is cut off midway,
    and a hanging chat holds a projection up for the budget and one request's timeout at most."""

    def __init__(self, dispatcher: Dispatcher, deadline: float):
        self._dispatcher = dispatcher
        self._deadline = deadline

    async def send(self, message: OutgoingMessage, compose: Compose | None = None) -> Delivery:
        if asyncio.get_running_loop().time() > self._deadline:
            raise OutOfTime()
        return await self._dispatcher.send(message, compose)


class ChatRooms:
    def __init__(
        self, sessions: async_sessionmaker, rooms: dict[ChatKind, Channel], roster, public_url: str, budget: float = 15.0
    ):
        self._dispatchers = {kind: Dispatcher(sessions, {kind: channel}) for kind, channel in rooms.items()}
        self._roster = roster
        self._public_url = public_url.rstrip("/")
        self._budget = budget

    def _message(
        self,
        summary: IncidentSummary,
        kind: ChatKind,
        step: str,
        message_kind: str,
        *,
        subject: str = "",
        body: str = "",
        address: str | None = None,
    ) -> OutgoingMessage:
        return OutgoingMessage(
            ledger_key=f"{summary.id}/chat.{step}/{kind.value}",
            incident_id=summary.id,
            person_id=None,
            kind=message_kind,
            channel=kind,
            address=address,
            subject=subject,
            body=body,
            drill=summary.drill,
            links=[Link(label="Open the incident", url=f"{self._public_url}/incidents/{summary.id}/view")],
        )

    async def mirror(self, summary: IncidentSummary, events: list[TimelineEvent]) -> None:
        deadline = asyncio.get_running_loop().time() + self._budget

        async def one(kind: ChatKind, dispatcher: Dispatcher) -> None:
            room = _Budgeted(dispatcher, deadline)
            try:
                if kind is ChatKind.SLACK:
                    await self._mirror_slack(room, summary, events)
                else:
                    await self._mirror_cards(kind, room, summary, events)
            except Exception as error:  # a copy: the read model must not wait for the chat
                log.warning("%s: the %s room missed an update: %s", summary.id, kind.value, getattr(error, "reason", error))

        await asyncio.gather(*(one(kind, dispatcher) for kind, dispatcher in self._dispatchers.items()))

    @staticmethod
    def _line(event: TimelineEvent) -> str:
        return event.message + (f" (via {event.via})" if event.via else "")

    def _headline(self, summary: IncidentSummary) -> str:
        return f"{'[DRILL] ' if summary.drill else ''}{summary.severity} {summary.title}"

    def _report(self, summary: IncidentSummary) -> str:
        return f"The incident is closed. Post-incident report: {self._public_url}/incidents/{summary.id}/report"

    async def _mirror_slack(
        self, dispatcher: "Dispatcher | _Budgeted", summary: IncidentSummary, events: list[TimelineEvent]
    ) -> None:
        from channels.slack import channel_name  # Slack is configured here: build_chats imported it already

        slack = ChatKind.SLACK
        room = await dispatcher.send(
            self._message(summary, slack, "open", "chat.open", subject=channel_name(summary.id, summary.scenario, summary.drill))
        )
        channel = room.provider_id
        about = (
            f"Playbook {summary.playbook} ({summary.scenario.replace('_', ' ')}), declared {summary.declared_at:%Y-%m-%d %H:%M}"
            " UTC."
        )
        await dispatcher.send(
            self._message(summary, slack, "summary", "chat.summary", subject=self._headline(summary), body=about, address=channel)
        )
        roster = self._roster.current()
        for event in events:
            if event.kind is EventKind.PAGED and (person := roster.person(str(event.data.get("person")))) and person.slack:
                await dispatcher.send(
                    self._message(summary, slack, f"invite.{person.id}", "chat.invite", body=person.slack, address=channel)
                )
            if event.kind in MIRRORED:
                await dispatcher.send(
                    self._message(summary, slack, f"event.{event.seq}", "chat.event", body=self._line(event), address=channel)
                )
        if summary.status == "closed":
            await dispatcher.send(
                self._message(summary, slack, "report", "chat.event", body=self._report(summary), address=channel)
            )
            await dispatcher.send(self._message(summary, slack, "archive", "chat.archive", address=channel))

    async def _mirror_cards(
        self, chat: ChatKind, dispatcher: "Dispatcher | _Budgeted", summary: IncidentSummary, events: list[TimelineEvent]
    ) -> None:
        headline = self._headline(summary)
        for event in events:
            if event.kind in MIRRORED:
                await dispatcher.send(
                    self._message(summary, chat, f"event.{event.seq}", "chat.event", subject=headline, body=self._line(event))
                )
        if summary.status == "closed":
            await dispatcher.send(
                self._message(summary, chat, "report", "chat.event", subject=headline, body=self._report(summary))
            )

    async def ask(
        self,
        notice: Notice,
        ledger_key: Callable[[ChatKind], str],
        compose: Callable[[ChatKind], Compose | None],
        incident_link: Link,
    ) -> list[Delivery]:
        """A page or approval request in each chat that can reach the person (Slack needs their
        Slack id); best effort, see the module's docstring."""
        if notice.kind not in ASKS or not self._dispatchers:
            return []
        person = self._roster.current().person(notice.person)

        async def one(kind: ChatKind, dispatcher: Dispatcher) -> Delivery | None:
            message = OutgoingMessage(
                ledger_key=ledger_key(kind),
                incident_id=notice.incident_id,
                person_id=notice.person,
                kind=notice.kind,
                channel=kind,
                address=person.slack if kind is ChatKind.SLACK else None,
                subject=notice.subject,
                body=notice.body if kind is ChatKind.SLACK else f"For {person.name if person else notice.person}: {notice.body}",
                links=[incident_link],
                drill=notice.drill,
                language=notice.language,
            )
            try:
                return await dispatcher.send(message, compose(kind))
            except Exception as error:
                log.warning("%s: %s copy not sent: %s", message.ledger_key, kind.value, getattr(error, "reason", error))
                return None

        sends = [
            one(kind, dispatcher)
            for kind, dispatcher in self._dispatchers.items()
            if kind is not ChatKind.SLACK or (person and person.slack)
        ]
        return [delivery for delivery in await asyncio.gather(*sends) if delivery is not None]
