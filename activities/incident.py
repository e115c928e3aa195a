"""The activities: every side effect of an incident (send, publish, render, project)."""

from collections.abc import Callable
from pathlib import Path

import yaml
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.models import Projection, Publication, RenderRequest
from channels.base import Channel, ChannelKind, Delivery, Link, OutgoingMessage
from domain.catalog import ROSTER_FILE
from domain.messages import Notice
from domain.roster import Roster
from domain.statements import TemplateProblem, render_statement
from store.service import project_incident


class RosterSource:
    """The team roster, re-read when the file changes, so a handover takes effect on the next send."""

    def __init__(self, playbooks_dir: Path):
        self._path = Path(playbooks_dir) / ROSTER_FILE
        self._loaded: tuple[float, Roster] | None = None

    def current(self) -> Roster:
        modified = self._path.stat().st_mtime
        if self._loaded is None or self._loaded[0] != modified:
            self._loaded = (modified, Roster.model_validate(yaml.safe_load(self._path.read_text(encoding="utf-8"))))
        return self._loaded[1]


class IncidentActivities:
    def __init__(
        self,
        sessions: async_sessionmaker,
        roster: RosterSource,
        channels: dict[ChannelKind, Channel],
        incident_url: Callable[[str], str],
    ):
        self._sessions = sessions
        self._roster = roster
        self._channels = channels
        self._incident_url = incident_url

    def _ledger_key(self, channel: ChannelKind) -> str:
        info = activity.info()
        return f"{info.workflow_id}/{info.activity_id}/{channel.value}"

    @activity.defn
    async def notify(self, notice: Notice) -> list[Delivery]:
        """Reach one person on every channel they have, resolving contacts now (not at declaration)."""
        person = self._roster.current().person(notice.person)
        if person is None:
            raise ApplicationError(f"'{notice.person}' is no longer in the team roster", non_retryable=True)
        links = [Link(label="Incident", url=self._incident_url(notice.incident_id))]
        deliveries = []
        for channel, address, body in (
            (ChannelKind.SMS, person.phone, f"{notice.subject}. {notice.body}"[:600]),
            (ChannelKind.EMAIL, person.email, notice.body),
        ):
            message = OutgoingMessage(
                ledger_key=self._ledger_key(channel),
                incident_id=notice.incident_id,
                person_id=notice.person,
                kind=notice.kind,
                channel=channel,
                address=address,
                subject=notice.subject,
                body=body,
                links=links,
                drill=notice.drill,
            )
            deliveries.append(await self._channels[channel].send(message))
        return deliveries

    @activity.defn
    async def publish(self, publication: Publication) -> Delivery:
        message = OutgoingMessage(
            ledger_key=self._ledger_key(ChannelKind.PUBLIC),
            incident_id=publication.incident_id,
            person_id=None,
            kind=f"statement.{publication.kind.value}",
            channel=ChannelKind.PUBLIC,
            subject=f"{publication.title} — statement v{publication.version}",
            body=publication.text,
            links=[Link(label="Incident", url=self._incident_url(publication.incident_id))],
            drill=publication.drill,
        )
        return await self._channels[ChannelKind.PUBLIC].send(message)

    @activity.defn
    async def render(self, request: RenderRequest) -> str:
        try:
            return render_statement(request.template, request.context)
        except TemplateProblem as problem:
            raise ApplicationError(f"statement template: {problem}", non_retryable=True) from None

    @activity.defn
    async def record(self, projection: Projection) -> None:
        async with self._sessions() as session:
            await project_incident(
                session,
                projection.summary.model_dump(),
                [event.model_dump() for event in projection.events],
            )
