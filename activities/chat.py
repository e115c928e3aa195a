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
neither fails the page (SMS, email and calls carry it) nor holds up the read model.
"""

import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import async_sessionmaker

from activities.models import IncidentSummary
from channels.base import Channel, ChatKind, Delivery, Link, OutgoingMessage
from channels.dispatch import Compose, Dispatcher
from channels.slack import channel_name
from domain.incident import TimelineEvent
from domain.messages import Notice

log = logging.getLogger("crisisflow.chat")

# The timeline events the room hears about.
MIRRORED = {
    "phase_changed", "acknowledged", "assessed", "escalation_exhausted", "deadline_missed", "statement_drafted", "statement_approved_by",
    "statement_approved", "statement_rejected", "statement_published", "publication_failed", "fallback_statement", "resolved",
}
ASKS = {"page", "approval"}  # notices that arrive in the chat with buttons


class ChatRooms:
    def __init__(self, sessions: async_sessionmaker, rooms: dict[ChatKind, Channel], roster, public_url: str):
        self._dispatchers = {kind: Dispatcher(sessions, {kind: channel}) for kind, channel in rooms.items()}
        self._roster = roster
        self._public_url = public_url.rstrip("/")

    def _message(self, summary: IncidentSummary, kind: ChatKind, step: str, message_kind: str, *, subject: str = "", body: str = "",
                 address: str | None = None) -> OutgoingMessage:
        return OutgoingMessage(
            ledger_key=f"{summary.id}/chat.{step}/{kind.value}", incident_id=summary.id, person_id=None, kind=message_kind,
            channel=kind, address=address, subject=subject, body=body, drill=summary.drill,
            links=[Link(label="Open the incident", url=f"{self._public_url}/incidents/{summary.id}/view")],
        )

    async def mirror(self, summary: IncidentSummary, events: list[TimelineEvent]) -> None:
        for kind, dispatcher in self._dispatchers.items():
            try:
                if kind is ChatKind.SLACK:
                    await self._mirror_slack(dispatcher, summary, events)
                else:
                    await self._mirror_cards(kind, dispatcher, summary, events)
            except Exception as error:  # a copy: the read model must not wait for the chat
                log.warning("%s: the %s room missed an update of %s: %s", summary.id, kind.value, summary.id, getattr(error, "reason", error))

    @staticmethod
    def _line(event: TimelineEvent) -> str:
        return event.message + (f" (via {event.via})" if event.via else "")

    def _headline(self, summary: IncidentSummary) -> str:
        return f"{'[DRILL] ' if summary.drill else ''}{summary.severity} {summary.title}"

    def _report(self, summary: IncidentSummary) -> str:
        return f"The incident is closed. Post-incident report: {self._public_url}/incidents/{summary.id}/report"

    async def _mirror_slack(self, dispatcher: Dispatcher, summary: IncidentSummary, events: list[TimelineEvent]) -> None:
        slack = ChatKind.SLACK
        room = await dispatcher.send(self._message(summary, slack, "open", "chat.open", subject=channel_name(summary.id, summary.scenario, summary.drill)))
        channel = room.provider_id
        about = f"Playbook {summary.playbook} ({summary.scenario.replace('_', ' ')}), declared {summary.declared_at:%Y-%m-%d %H:%M} UTC."
        await dispatcher.send(self._message(summary, slack, "summary", "chat.summary", subject=self._headline(summary), body=about, address=channel))
        roster = self._roster.current()
        for event in events:
            if event.kind == "paged" and (person := roster.person(str(event.data.get("person")))) and person.slack:
                await dispatcher.send(self._message(summary, slack, f"invite.{person.id}", "chat.invite", body=person.slack, address=channel))
            if event.kind in MIRRORED:
                await dispatcher.send(self._message(summary, slack, f"event.{event.seq}", "chat.event", body=self._line(event), address=channel))
        if summary.status == "closed":
            await dispatcher.send(self._message(summary, slack, "report", "chat.event", body=self._report(summary), address=channel))
            await dispatcher.send(self._message(summary, slack, "archive", "chat.archive", address=channel))

    async def _mirror_cards(self, chat: ChatKind, dispatcher: Dispatcher, summary: IncidentSummary, events: list[TimelineEvent]) -> None:
        headline = self._headline(summary)
        for event in events:
            if event.kind in MIRRORED:
                await dispatcher.send(self._message(summary, chat, f"event.{event.seq}", "chat.event", subject=headline, body=self._line(event)))
        if summary.status == "closed":
            await dispatcher.send(self._message(summary, chat, "report", "chat.event", subject=headline, body=self._report(summary)))

    async def ask(self, notice: Notice, ledger_key: Callable[[ChatKind], str], compose: Callable[[ChatKind], Compose | None],
                  incident_link: Link) -> list[Delivery]:
        """A page or approval request in each chat that can reach the person (Slack needs their
        Slack id); best effort, see the module's docstring."""
        if notice.kind not in ASKS or not self._dispatchers:
            return []
        person = self._roster.current().person(notice.person)
        deliveries = []
        for kind, dispatcher in self._dispatchers.items():
            if kind is ChatKind.SLACK and not (person and person.slack):
                continue
            message = OutgoingMessage(
                ledger_key=ledger_key(kind), incident_id=notice.incident_id, person_id=notice.person, kind=notice.kind, channel=kind,
                address=person.slack if kind is ChatKind.SLACK else None, subject=notice.subject,
                body=notice.body if kind is ChatKind.SLACK else f"For {person.name if person else notice.person}: {notice.body}",
                links=[incident_link], drill=notice.drill, language=notice.language,
            )
            try:
                deliveries.append(await dispatcher.send(message, compose(kind)))
            except Exception as error:
                log.warning("%s: %s copy not sent: %s", message.ledger_key, kind.value, getattr(error, "reason", error))
        return deliveries
