"""The activities: every side effect of an incident (send, publish, render, project)."""

import asyncio
import hashlib
from collections.abc import Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml
from sqlalchemy.exc import DataError, DBAPIError
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.chat import ChatRooms
from activities.models import (
    BatchedNotice,
    NoticeBatch,
    NoticeOutcome,
    Projection,
    Publication,
    RaisedSignal,
    RenderRequest,
    RepliesRequest,
    RepliesWatched,
    TargetSignal,
)
from channels.base import (
    Channel,
    ChannelKind,
    ChatKind,
    Delivery,
    DeliveryError,
    Link,
    OutgoingMessage,
    PermanentDeliveryError,
    PublicPost,
    redact,
)
from channels.dispatch import Compose, Dispatcher
from channels.targets import BUILT_IN_VARIANTS, OUTBOX_TARGET
from domain.catalog import ROSTER_FILE
from domain.incident import Receipt, text_sha256
from domain.messages import Briefing, FeedbackRequest, InternalDispatch, Notice, gsm_safe, sms_with_action, text
from domain.roster import Roster
from domain.safe_text import printable
from domain.statements import TemplateProblem, render_statement, render_variants
from domain.variants import Channel as VariantChannel
from domain.variants import Variant, find, variant_sha256
from store import service, tokens
from store.service import project_incident, project_metrics

DATA_ERROR = "DataError"
TEMPLATE_PROBLEM = "TemplateProblem"
REFUSED_PREFIX = "the database refused the data: "


def _is_data_error(error: BaseException) -> bool:
    """The database refused the values themselves (SQLSTATE class 22: a NUL in text, a string too
    long for its column, a number out of range); asyncpg's are not all SQLAlchemy DataErrors."""
    return (
        isinstance(error, DataError)
        or isinstance(error, DBAPIError)
        and str(getattr(error.orig, "sqlstate", None) or "").startswith("22")
    )


def _refused(error: DBAPIError) -> str:
    """The database's reason in one line, without the statement and its parameters (the data itself)."""
    return printable(str(getattr(error, "orig", None) or error).strip().splitlines()[0])[:300]


def _final(error: DBAPIError) -> ApplicationError:
    """Data the database refuses is refused again on every retry: the activity fails for good, and
    the workflow shows it on the incident instead of retrying forever."""
    return ApplicationError(f"{REFUSED_PREFIX}{_refused(error)}", type=DATA_ERROR, non_retryable=True)


def _unrenderable(problem: Exception) -> ApplicationError:
    """Rendering is pure: the same template and fact sheet fail the same way on every try, whatever
    the error (the template's, a fact sheet's value, a variant that cannot be built), so none is retried."""
    reason = str(problem) if isinstance(problem, TemplateProblem) else f"{type(problem).__name__}: {problem}"
    return ApplicationError(printable(reason)[:500], type=TEMPLATE_PROBLEM, non_retryable=True)


def _printable_values(value):
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {key: _printable_values(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_printable_values(item) for item in value]
    return value


HEARTBEAT_EVERY_S = 5.0  # well within the batch's heartbeat timeout (the workflow's ACTIVITY_TIMEOUT, 30 s)


async def _heartbeat_every(seconds: float) -> None:
    while True:
        activity.heartbeat()
        await asyncio.sleep(seconds)


class _People:
    """How many people the worker's batches reach at once, all batches together: a batch (or a part of
    one, no larger than the places) takes as many places as it has people, in the order they came."""

    def __init__(self, places: int):
        self._free = places
        self._turns = asyncio.Condition()
        self._waiting: list[object] = []

    @asynccontextmanager
    async def holding(self, people: int):
        turn = object()
        async with self._turns:
            self._waiting.append(turn)
            try:
                await self._turns.wait_for(lambda: self._waiting[0] is turn and self._free >= people)
            finally:
                self._waiting.remove(turn)
                self._turns.notify_all()
            self._free -= people
        try:
            yield
        finally:
            async with self._turns:
                self._free += people
                self._turns.notify_all()


@dataclass
class _Sending:
    """One notice on its way: its messages and link makers (one a channel, in ``channels``' order) and its chat copies."""

    notice: Notice
    send_id: str | None
    channels: list[ChannelKind]
    sends: list[tuple[OutgoingMessage, Compose | None]]
    chat: asyncio.Future


def _notice_outcome(outcome: list[Delivery] | BaseException) -> NoticeOutcome:
    """One notice's try in a batch, as the workflow reads it: its deliveries, or the error its own
    activity would have failed with (type, message, the channels it names, whether it is final)."""
    if isinstance(outcome, list):
        return NoticeOutcome(deliveries=outcome)
    if not isinstance(outcome, Exception):
        raise outcome  # cancelled: the batch's, not a person's
    if _is_data_error(outcome):
        outcome = _final(outcome)
    if isinstance(outcome, ApplicationError):
        return NoticeOutcome(
            failure=outcome.type or "ApplicationError",
            message=outcome.message,
            channels=[str(channel) for channel in outcome.details],
            final=outcome.non_retryable,
        )
    return NoticeOutcome(failure=type(outcome).__name__, message=redact(str(outcome))[:500])


# Notice kind -> the purpose of the single-use link its email carries (see api/action_links.py).
APPROVAL_LINKS = {"approval": "approve", "answer_approval": "approve_answer", "internal_approval": "approve_internal"}


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


def reaching(notice: Notice) -> list[ChannelKind]:
    """The channels a notice goes on. Only a page rings a phone: anything else a call level's
    people hear (who took the page, a reminder) goes by SMS instead."""
    names = (
        notice.channels
        if notice.kind == "page"
        else ["sms" if name == ChannelKind.CALL.value else name for name in notice.channels]
    )
    return [ChannelKind(name) for name in dict.fromkeys(names)]


class IncidentActivities:
    def __init__(
        self,
        sessions: async_sessionmaker,
        roster: RosterSource,
        channels: dict[ChannelKind, Channel],
        public_url: str,
        link_ttl: timedelta = timedelta(hours=24),
        publishing: dict[str, Channel] | None = None,
        chats: dict[ChatKind, Channel] | None = None,
        default_targets: list[str] | None = None,
        variants: dict[str, VariantChannel] | None = None,
        people_at_once: int = 100,
    ):
        """``people_at_once``: how many people batches (``notify_each``) reach at the same time, all
        batches together; the worker passes its activity slots, as many as single pages could be."""
        self._sessions = sessions
        self._people_at_once = people_at_once
        self._reaching: _People | None = None  # made in the worker's event loop, at the first batch
        self._roster = roster
        self._dispatcher = Dispatcher(sessions, channels)
        self._publishing = {
            name: Dispatcher(sessions, {ChannelKind.PUBLIC: channel})
            for name, channel in (publishing or {OUTBOX_TARGET: channels[ChannelKind.PUBLIC]}).items()
        }
        self._default_targets = default_targets or [OUTBOX_TARGET]
        self._variants = BUILT_IN_VARIANTS | (variants or {})
        self._public_url = public_url.rstrip("/")
        self._link_ttl = link_ttl
        self._chat = ChatRooms(sessions, chats or {}, roster, public_url)

    def all(self) -> list:
        """Every activity, for the worker to register."""
        return [
            self.next_wave,
            self.notify,
            self.notify_each,
            self.publish,
            self.read_replies,
            self.watch_replies,
            self.signal_targets,
            self.brief_stakeholders,
            self.send_internal,
            self.request_feedback,
            self.render,
            self.render_variants,
            self.record,
        ]

    def _incident_url(self, incident_id: str) -> str:
        return f"{self._public_url}/incidents/{incident_id}/view"

    def _ledger_key(self, channel: ChannelKind, send_id: str | None = None) -> str:
        """workflow id / activity id / channel; a notice of a batch (``notify_each``) has the ``send_id``
        its own activity would have had in place of the activity id."""
        info = activity.info()
        return f"{info.workflow_id}/{send_id or info.activity_id}/{channel.value}"

    def _link_composer(self, notice: Notice, channel: ChannelKind, incident_link: Link) -> Compose | None:
        """How the message gets its action link, minted in the send's own transaction: a page's
        acknowledge link and an approval's, on every channel they go by (an approver on a phone
        opens the statement from the SMS). Minted per channel and only while that channel has not
        been accepted, so a retry never kills a link someone already holds."""
        if notice.kind == "page":
            purpose, label = "acknowledge", "link.acknowledge"
        elif notice.kind in APPROVAL_LINKS:
            purpose, label = APPROVAL_LINKS[notice.kind], "link.approve"
        else:
            return None

        async def with_link(links: tokens.Links, message: OutgoingMessage) -> OutgoingMessage:
            minted = await links.mint(
                ledger_key=message.ledger_key,
                incident_id=notice.incident_id,
                person_id=notice.person,
                purpose=purpose,
                ttl=self._link_ttl,
                version=notice.version,
            )
            action_url = f"{self._public_url}/a/{minted.token}"
            update: dict = {
                "links": [Link(label=text(notice.language, label), url=action_url), incident_link],
                "action": minted.token,
            }
            if notice.kind == "page" and channel is ChannelKind.SMS:
                update["body"] = sms_with_action(notice.sms, text(notice.language, "sms.ack", code=minted.code, link=action_url))
            elif channel is ChannelKind.SMS:
                update["body"] = sms_with_action(notice.sms, action_url)
            return message.model_copy(update=update)

        return with_link

    def _message(
        self, notice: Notice, channel: ChannelKind, address: str | None, incident_link: Link, send_id: str | None
    ) -> OutgoingMessage:
        if channel is ChannelKind.SMS:
            body = gsm_safe(notice.sms)
        elif channel is ChannelKind.CALL:
            body = text(notice.language, "call.page", page=notice.sms)
        else:
            body = notice.body
        return OutgoingMessage(
            ledger_key=self._ledger_key(channel, send_id),
            incident_id=notice.incident_id,
            person_id=notice.person,
            kind=notice.kind,
            channel=channel,
            address=address,
            subject=notice.subject,
            body=body,
            links=[incident_link],
            drill=notice.drill,
            language=notice.language,
        )

    @activity.defn
    async def next_wave(self) -> None:
        """Returns at once: the workflow awaits it as a local activity between the waves of a large team's
        escalations, which ends its activation (each wave well within the SDK's deadlock limit) but not its
        workflow task (``WAVES_IN_ONE_TASK`` in workflows/incident_flow.py)."""

    @activity.defn
    async def notify(self, notice: Notice) -> list[Delivery]:
        """Reach one person on every channel they have, all at once, resolving contacts now (not at declaration)."""
        sending = self._sending(notice, None)
        outcomes = await self._dispatcher.send_all(sending.sends)
        return await self._delivered(sending, outcomes)

    @activity.defn
    async def notify_each(self, batch: NoticeBatch) -> list[NoticeOutcome]:
        """Reach several people at once, one try each: a large team's pages go out in one activity per
        batch instead of one each (issue 22 #4). Each notice keeps the ledger keys of its own activity
        (its ``send_id``), so neither a retry of the batch nor the notice's own activity, which the
        workflow runs for a person whose try here failed, sends anything a provider accepted already.
        A person's failure is their outcome, never the batch's. The batch's sends share their
        database transactions (the dispatcher's ``send_all``). It heartbeats while it runs, so a lost
        worker is noticed within the heartbeat timeout however long a loaded machine makes the batch;
        and a send the providers were asked to make is recorded even if the batch is cut off (by a
        timeout) meanwhile, so its retry does not send it again."""
        if self._reaching is None:
            self._reaching = _People(self._people_at_once)
        reaching, at_once = self._reaching, self._people_at_once

        async def reach(notices: list[BatchedNotice]) -> list[NoticeOutcome]:
            async with reaching.holding(len(notices)):  # the worker's batches together reach at most people_at_once
                return await self._notify_all(notices)

        # Run as a local activity (the commander's first page, from the workflow task), it has no
        # heartbeat to send: the worker running the task is its liveness.
        beating = None if activity.info().is_local else asyncio.ensure_future(_heartbeat_every(HEARTBEAT_EVERY_S))
        try:
            parts = [batch.notices[start : start + at_once] for start in range(0, len(batch.notices), at_once)]
            return [outcome for part in await asyncio.gather(*(reach(part) for part in parts)) for outcome in part]
        finally:
            if beating is not None:
                beating.cancel()

    async def _notify_all(self, notices: list[BatchedNotice]) -> list[NoticeOutcome]:
        outcomes: list[NoticeOutcome | None] = [None] * len(notices)
        sendings: list[tuple[int, _Sending]] = []
        for index, item in enumerate(notices):
            try:
                sendings.append((index, self._sending(item.notice, item.send_id)))
            except Exception as error:
                outcomes[index] = _notice_outcome(error)
        delivered = await self._dispatcher.send_all([send for _, sending in sendings for send in sending.sends])
        start = 0
        for index, sending in sendings:
            answers, start = delivered[start : start + len(sending.sends)], start + len(sending.sends)
            try:
                outcomes[index] = _notice_outcome(await self._delivered(sending, answers))
            except Exception as error:
                outcomes[index] = _notice_outcome(error)
        return outcomes

    def _sending(self, notice: Notice, send_id: str | None) -> "_Sending":
        """A notice's messages, one a channel, its contacts resolved now; and its chat copies, sent beside them."""
        person = self._roster.current().person(notice.person)
        if person is None:
            raise ApplicationError(f"'{notice.person}' is no longer in the team roster", non_retryable=True)
        incident_link = Link(label=text(notice.language, "link.incident"), url=self._incident_url(notice.incident_id))
        addresses = {ChannelKind.SMS: person.phone, ChannelKind.EMAIL: person.email, ChannelKind.CALL: person.phone}
        channels = reaching(notice)
        sends = [
            (
                self._message(notice, channel, addresses[channel], incident_link, send_id),
                self._link_composer(notice, channel, incident_link),
            )
            for channel in channels
        ]
        chat = asyncio.ensure_future(
            self._chat.ask(
                notice,
                lambda kind: self._ledger_key(kind, send_id),
                lambda kind: self._link_composer(notice, kind, incident_link),
                incident_link,
            )
        )
        return _Sending(notice, send_id, channels, sends, chat)

    async def _delivered(self, sending: "_Sending", outcomes: list[Delivery | Exception]) -> list[Delivery]:
        """A notice's deliveries from its channels' outcomes, or the error its activity fails with."""
        notice, send_id, channels = sending.notice, sending.send_id, sending.channels
        deliveries: list[Delivery] = []
        retry: list[str] = []
        failed: list[str] = []  # the error's details: the channels that did not reach the person (the workflow falls back)
        for channel, outcome in zip(channels, outcomes):
            if isinstance(outcome, Delivery):
                deliveries.append(outcome)
            elif _is_data_error(outcome):
                raise _final(outcome)
            elif isinstance(outcome, PermanentDeliveryError):
                # Recorded in the ledger; the person's other channels still go.
                activity.logger.warning("%s refused for good: %s", self._ledger_key(channel, send_id), outcome.reason)
                refused = f"{channel.value}: {outcome.reason}"
                deliveries.append(Delivery(channel=self._dispatcher.channel(channel).name, accepted=False, error=refused))
            else:  # TransientDeliveryError, or anything unforeseen: worth a retry
                activity.logger.warning("%s failed, will be retried: %s", self._ledger_key(channel, send_id), outcome)
                retry.append(f"{channel.value}: {getattr(outcome, 'reason', None) or type(outcome).__name__}")
                failed.append(channel.value)
        deliveries += await sending.chat
        if retry:
            # The other channels went (the ledger has them): the retry sends only what is missing.
            raise ApplicationError("delivery will be retried: " + "; ".join(retry), *failed, type="TransientDeliveryError")
        if deliveries and not any(delivery.accepted for delivery in deliveries):
            reasons = "; ".join(delivery.error or "" for delivery in deliveries)
            raise ApplicationError(
                f"no channel could reach {notice.person}: {reasons}",
                *[c.value for c in channels],
                type="PermanentDeliveryError",
                non_retryable=True,
            )
        return deliveries

    @activity.defn
    async def publish(self, publication: Publication) -> list[Receipt]:
        """Send each of the playbook's targets exactly its channel's approved variant (all at once: a
        slow or failing one holds up no other) and say, per target, the hash of what was actually
        sent, the post's id and its public URL. A variant over its channel's limit is refused, never
        cut. A drill only ever reaches the outbox."""
        post = PublicPost(
            statement=publication.kind.value,
            severity=publication.severity,
            components=publication.components,
            headline=publication.status_page_name,
        )
        targets = self._default_targets if publication.targets is None else publication.targets
        kind = f"statement.{publication.kind.value}"
        if not publication.variants:  # approved before statements had variants
            return await self._to_targets(
                publication.incident_id,
                targets,
                kind,
                f"{publication.title} — statement v{publication.version}",
                publication.text,
                publication.drill,
                post=post,
                threads=publication.threads,
                tries=publication.tries,
            )
        return await self._to_targets(
            publication.incident_id,
            targets,
            kind,
            "",
            "",
            publication.drill,
            post=post,
            threads=publication.threads,
            variants=publication.variants,
            tries=publication.tries,
        )

    @activity.defn
    async def read_replies(self, request: RepliesRequest) -> int:
        """Replies to and quotes of the incident's published posts, into the listening stream as
        mentions tied to the statement they answer (scored for sentiment). A network that cannot be
        read now is skipped (logged) and read at the next turn. Returns how many were new. (Kept for
        incidents started before :meth:`watch_replies`.)"""
        return await self._store_replies(request)

    @activity.defn
    async def watch_replies(self, request: RepliesRequest) -> RepliesWatched:
        """:meth:`read_replies`, then the playbook's surge rule on each statement's replies: a surge
        of negative ones is stored as a signal tied to the incident (once per statement) and
        returned (every surge found, stored now or at an earlier try) for the workflow to put on the
        incident's timeline once."""
        from domain.listening import MentionFacts, reply_surge
        from store import mentions as mention_store

        new = await self._store_replies(request)
        if request.surge is None:
            return RepliesWatched(new=new)
        kinds = {post.version: post.kind for post in request.posts}
        detected_at = datetime.now(timezone.utc)
        async with self._sessions() as session:
            facts = await mention_store.reply_facts(session, request.incident_id)
            detections = [
                detection
                for version, rows in sorted(facts.items())
                if (
                    detection := reply_surge(
                        request.surge,
                        request.incident_id,
                        request.playbook,
                        version,
                        kinds.get(version, "statement"),
                        [MentionFacts(*row) for row in rows],
                    )
                )
                is not None
            ]
            await mention_store.record_signals(
                session,
                [
                    {**detection.model_dump(), "status": "raised", "detected_at": detected_at, "incident_id": request.incident_id}
                    for detection in detections
                ],
            )
        return RepliesWatched(
            new=new,
            raised=[
                RaisedSignal(
                    id=d.id,
                    version=d.evidence["statement_version"],
                    summary=d.summary,
                    negative=d.evidence["negative"],
                    scored=d.evidence["scored"],
                )
                for d in detections
            ],
        )

    async def _store_replies(self, request: RepliesRequest) -> int:
        from domain.sentiment import guess_language, is_negative, score
        from store import mentions as mention_store

        now = datetime.now(timezone.utc)
        rows = []
        for post in request.posts:
            dispatcher = self._publishing.get(post.target)
            channel = dispatcher.channel(ChannelKind.PUBLIC) if dispatcher is not None else None
            if channel is None or not hasattr(channel, "replies"):
                continue
            try:
                replies = await channel.replies(post.post_id)
            except DeliveryError as error:
                activity.logger.warning("replies to %s on %s not read now: %s", post.post_id, post.target, error.reason)
                continue
            for reply in replies:
                language = guess_language(reply.text)
                sentiment = score(reply.text, language)
                rows.append(
                    {
                        "platform": post.target,
                        "external_id": reply.id[:200],
                        "author": reply.author[:200],
                        "text": reply.text,
                        "url": (reply.url or "")[:2000],
                        "created_at": reply.posted_at or now,
                        "language": language,
                        "reach": 0,
                        "topic": None,
                        "sentiment": sentiment,
                        "negative": is_negative(sentiment),
                        "received_at": now,
                        "incident_id": request.incident_id,
                        "statement_version": post.version,
                    }
                )
        if not rows:
            return 0
        async with self._sessions() as session:
            return sum((await mention_store.insert_mentions(session, rows)).values())

    @activity.defn
    async def brief_stakeholders(self, briefing: Briefing) -> int:
        """Email the playbook's stakeholder groups (addresses from the roster now) and, outside drills,
        the incident's subscribers (addresses from the database). Returns how many were reached."""
        roster = self._roster.current()
        recipients = [(p, roster.person(p).email) for p in roster.stakeholder_people(briefing.groups) if roster.person(p)]
        if not briefing.drill:
            async with self._sessions() as session:
                recipients += [(None, row.email) for row in await service.list_subscribers(session, briefing.incident_id)]
        link = Link(label=text(briefing.language, "link.incident"), url=self._incident_url(briefing.incident_id))
        return await self._email_each(
            dict.fromkeys(recipients),
            briefing.incident_id,
            f"briefing.{briefing.event}",
            briefing.subject,
            briefing.body,
            briefing.drill,
            links=(link,),
        )

    @activity.defn
    async def send_internal(self, message: InternalDispatch) -> int:
        """Email an approved internal message to its audience's roster groups (people, roles and
        distribution lists, addresses read now). Never to the incident's public subscribers.
        Returns how many addresses took it."""
        addresses = self._roster.current().group_addresses(message.groups)
        return await self._email_each(
            addresses, message.incident_id, "internal", message.subject, message.body, message.drill, language=message.language
        )

    async def _email_each(
        self,
        recipients: Iterable[tuple[str | None, str]],
        incident_id: str,
        kind: str,
        subject: str,
        body: str,
        drill: bool,
        links: tuple[Link, ...] = (),
        language: str = "en",
    ) -> int:
        """One email to each (person, address), keyed in the ledger by the address (a list has no
        person). Returns how many took it."""
        reached = 0
        for person, address in recipients:
            message = OutgoingMessage(
                ledger_key=f"{self._ledger_key(ChannelKind.EMAIL)}/{hashlib.sha256(address.lower().encode()).hexdigest()[:16]}",
                incident_id=incident_id,
                person_id=person,
                kind=kind,
                channel=ChannelKind.EMAIL,
                address=address,
                subject=subject,
                body=body,
                links=list(links),
                drill=drill,
                language=language,
            )
            reached += await self._email(message)
        return reached

    async def _email(self, message: OutgoingMessage, compose: Compose | None = None) -> bool:
        """True once sent; an address the provider refuses for good is logged (False) so the rest
        still go; data the database refuses fails the activity for good."""
        try:
            await self._dispatcher.send(message, compose)
        except PermanentDeliveryError as error:
            activity.logger.warning("%s %s refused: %s", message.kind, message.ledger_key, error.reason)
            return False
        except DBAPIError as error:
            if not _is_data_error(error):
                raise
            raise _final(error) from None
        return True

    @activity.defn
    async def request_feedback(self, request: FeedbackRequest) -> list[str]:
        """Email each person (and each member of the stakeholder groups) a single-use feedback link,
        valid until a day after the review is due. Returns who was asked, by person id."""
        roster = self._roster.current()
        people = [p for p in dict.fromkeys(request.people + roster.stakeholder_people(request.groups)) if roster.person(p)]
        ttl = max(request.due_at - datetime.now(timezone.utc) + timedelta(days=1), self._link_ttl)
        incident_link = Link(label=text(request.language, "link.incident"), url=self._incident_url(request.incident_id))

        async def with_feedback_link(links: tokens.Links, message: OutgoingMessage) -> OutgoingMessage:
            """Minted in the send's own transaction, so a retry never replaces a link already sent."""
            minted = await links.mint(
                ledger_key=message.ledger_key,
                incident_id=request.incident_id,
                person_id=message.person_id,
                purpose="feedback",
                ttl=ttl,
            )
            feedback_link = Link(label=text(request.language, "link.feedback"), url=f"{self._public_url}/a/{minted.token}")
            return message.model_copy(update={"links": [feedback_link, incident_link]})

        asked = []
        for person_id in people:
            ledger_key = f"{self._ledger_key(ChannelKind.EMAIL)}/{person_id}"
            message = OutgoingMessage(
                ledger_key=ledger_key,
                incident_id=request.incident_id,
                person_id=person_id,
                kind="feedback",
                channel=ChannelKind.EMAIL,
                address=roster.person(person_id).email,
                subject=request.subject,
                body=request.body,
                links=[incident_link],
                drill=request.drill,
            )
            if await self._email(message, with_feedback_link):
                asked.append(person_id)
        return asked

    @activity.defn
    async def signal_targets(self, signal: TargetSignal) -> list[Receipt]:
        """Tell the social scheduling tools to pause (at declaration) or resume (at close) scheduled posts."""
        return await self._to_targets(signal.incident_id, signal.targets, signal.event, signal.title, signal.text, signal.drill)

    async def _to_targets(
        self,
        incident_id: str,
        targets: list[str],
        kind: str,
        subject: str,
        body: str,
        drill: bool,
        post: PublicPost | None = None,
        threads: dict[str, str] | None = None,
        variants: list[Variant] | None = None,
        tries: int | None = None,
    ) -> list[Receipt]:
        """Send to each named target: ``subject`` and ``body``, or with ``variants`` the target's own.
        ``tries``: the workflow's bound; on the last try a target that still fails is given up in its
        receipt, so the receipts of those that went are kept."""
        names = [OUTBOX_TARGET] if drill else list(dict.fromkeys(targets))
        outcomes = await asyncio.gather(
            *(
                self._to_target(name, incident_id, kind, subject, body, drill, post, (threads or {}).get(name), variants)
                for name in names
            ),
            return_exceptions=True,
        )
        receipts, retry, failed, waits = [], [], [], []
        attempt = activity.info().attempt
        last = tries is not None and attempt >= tries
        for name, outcome in zip(names, outcomes):
            if isinstance(outcome, Receipt):
                receipts.append(outcome)
            elif isinstance(outcome, PermanentDeliveryError):
                receipts.append(Receipt(channel=name, sha256="", error=f"refused: {outcome.reason}"))
            elif _is_data_error(outcome):
                # Refused again on every try, so this target is given up in its receipt and the others keep theirs.
                activity.logger.error("%s: the database refused the data for %s: %s", kind, name, _refused(outcome))
                receipts.append(Receipt(channel=name, sha256="", error=f"{REFUSED_PREFIX}{_refused(outcome)}"))
            elif isinstance(outcome, Exception):  # transient: the retry sends only what the ledger lacks
                reason = getattr(outcome, "reason", None) or type(outcome).__name__
                if last:  # the workflow bounds this send: what still fails is said in its receipt
                    receipts.append(Receipt(channel=name, sha256="", error=f"given up after {attempt} tries: {reason}"))
                    continue
                retry.append(f"{name}: {reason}")
                failed.append(name)
                if getattr(outcome, "retry_after", None):
                    waits.append(outcome.retry_after)
            else:
                raise outcome
        if retry:
            # A rate limit's reset time is the provider telling us when to come back: the retry waits that long.
            raise ApplicationError(
                "publication will be retried: " + "; ".join(retry),
                *failed,
                type="TransientDeliveryError",
                next_retry_delay=timedelta(seconds=max(waits)) if waits else None,
            )
        return receipts

    async def _to_target(
        self,
        name: str,
        incident_id: str,
        kind: str,
        subject: str,
        body: str,
        drill: bool,
        post: PublicPost | None,
        thread: str | None,
        variants: list[Variant] | None = None,
    ) -> Receipt:
        dispatcher = self._publishing.get(name)
        if dispatcher is None:
            return Receipt(channel=name, sha256="", error="not configured (see docs/publishing.md and CRISIS_PUBLISH_WEBHOOKS)")
        chosen = None
        if variants:
            wanted = self._variants.get(name, VariantChannel.STATUS_PAGE)
            chosen = find(variants, wanted)
            if chosen is None:
                return Receipt(
                    channel=name, sha256="", variant=wanted, error=f"refused: the statement has no {wanted.value} variant"
                )
            if not chosen.fits:
                return Receipt(channel=name, sha256="", variant=wanted, error=f"refused, not cut: {'; '.join(chosen.problems())}")
            subject, body = chosen.title or "", chosen.text
        message = OutgoingMessage(
            ledger_key=f"{self._ledger_key(ChannelKind.PUBLIC)}/{name}",
            incident_id=incident_id,
            person_id=None,
            kind=kind,
            channel=ChannelKind.PUBLIC,
            subject=subject,
            body=body,
            links=[Link(label="Incident", url=self._incident_url(incident_id))],
            drill=drill,
            post=post.model_copy(update={"thread": thread}) if post is not None else None,
        )
        delivery = await dispatcher.send(message)
        channel = dispatcher.channel(ChannelKind.PUBLIC)
        url = delivery.url
        if url is None and delivery.provider_id and hasattr(channel, "public_url"):
            url = channel.public_url(delivery.provider_id)  # a retry that found the post in the ledger has only its id
        if chosen is None:
            return Receipt(channel=name, sha256=text_sha256(message.body), provider_id=delivery.provider_id, url=url)
        sent = Variant(
            **chosen.model_dump(exclude={"title", "text"}),
            title=message.subject if chosen.title is not None else None,
            text=message.body,
        )
        return Receipt(
            channel=name, sha256=variant_sha256(sent), provider_id=delivery.provider_id, url=url, variant=chosen.channel
        )

    @activity.defn
    async def render(self, request: RenderRequest) -> str:
        try:
            return render_statement(request.template, request.context)
        except Exception as problem:
            raise _unrenderable(problem) from None

    @activity.defn
    async def render_variants(self, request: RenderRequest) -> list[Variant]:
        """The statement for every channel from the template: title, short and long forms, measured."""
        try:
            return render_variants(request.template, request.context, request.channels)
        except Exception as problem:
            raise _unrenderable(problem) from None

    @activity.defn
    async def record(self, projection: Projection) -> str | None:
        """Project the incident into the read model (and mirror it to the chat room). Data the
        database refuses (PostgreSQL takes no NUL) is stored with its control characters replaced,
        and the reason is returned for the workflow to show on the incident; what cannot be stored
        even so fails for good (a retry would be refused the same way)."""
        refused = None
        try:
            await self._project(projection)
        except DBAPIError as error:
            if not _is_data_error(error):
                raise
            refused = _refused(error)
            activity.logger.error(
                "the read model refused the incident's data (%s): storing it with control characters replaced", refused
            )
            projection = Projection.model_validate(_printable_values(projection.model_dump()))
            try:
                await self._project(projection)
            except DBAPIError as again:
                if not _is_data_error(again):
                    raise
                raise _final(again) from None
        await self._chat.mirror(projection.summary, projection.events)
        return refused

    async def _project(self, projection: Projection) -> None:
        async with self._sessions() as session:
            await project_incident(session, projection.summary.model_dump(), [event.model_dump() for event in projection.events])
            if projection.metrics is not None:
                await project_metrics(session, projection.metrics.model_dump())
