"""A large team's pages go out ten people an activity (issue 22 #4, ``lean-fanout-batch-pages``): one
``notify_each`` a batch instead of one ``notify`` a person. A person whose try in the batch failed is
tried again on their own activity (the same ledger keys, so the channel that reached them is not sent
again) or, refused for good, is on the timeline; everyone else is paged once, and a batch retried as a
whole sends nothing twice."""

import asyncio
from collections import Counter
from datetime import timedelta

import pytest_asyncio
from temporalio import activity
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Replayer

import activities.incident
from activities.incident import IncidentActivities, RosterSource
from activities.models import BatchedNotice, NoticeBatch, NoticeOutcome
from bench.playbooks import FANOUT_PLAYBOOK, person_id, write_fanout_playbooks
from channels.base import ChannelKind, Delivery, OutgoingMessage, PermanentDeliveryError, TransientDeliveryError
from channels.outbox import OutboxChannel
from domain.actions import Acknowledge
from domain.catalog import load_catalog
from domain.messages import DeliveryFailure, Notice
from services.workflow_runner import workflow_runner
from store import ledger
from store.db import create_engine, create_schema, session_factory
from tests.conftest import PROJECT
from tests.workflow.harness import open_harness
from workflows.incident import IncidentWorkflow
from workflows.incident_flow import PAGE_BATCH

ROLES = 25  # three batches: 10, 10 and 5
FLAKY = person_id(3)  # their SMS fails once (a 503): tried again alone
REFUSED = person_id(12)  # refused for good on SMS and email: on the timeline, not tried again
BOUNCED = person_id(21)  # their SMS is reported undelivered later: the page goes again by email


class Provider:
    """Takes every message but those it was told to fail, and remembers each one it took."""

    def __init__(self, name: str, fail_once: set[str] = frozenset(), refuse: set[str] = frozenset()) -> None:
        self.name = name
        self.fail_once = set(fail_once)
        self.refuse = set(refuse)
        self.tries: list[OutgoingMessage] = []
        self.delivered: list[OutgoingMessage] = []

    async def send(self, message: OutgoingMessage) -> Delivery:
        self.tries.append(message)
        if message.person_id in self.refuse:
            raise PermanentDeliveryError("400 Bad Request: the recipient is not valid")
        if message.person_id in self.fail_once:
            self.fail_once.discard(message.person_id)
            raise TransientDeliveryError("503 Service Unavailable")
        self.delivered.append(message)
        return Delivery(channel=self.name, accepted=True, provider_id=f"{self.name}-{len(self.delivered)}")

    def pages(self) -> Counter:
        return Counter(m.person_id for m in self.delivered if m.kind == "page")


class BatchLostOnce(IncidentActivities):
    """The first batch's first try sends everything, then its worker is lost (the try fails): Temporal
    runs the whole batch again."""

    lost = False

    @activity.defn(name="notify_each")
    async def notify_each(self, batch: NoticeBatch) -> list[NoticeOutcome]:
        outcomes = await super().notify_each(batch)
        if not BatchLostOnce.lost and activity.info().activity_id == "pages.1":
            BatchLostOnce.lost = True
            raise RuntimeError("the worker was lost after its sends")
        return outcomes


@pytest_asyncio.fixture(loop_scope="session")
async def big_team(tmp_path):
    return load_catalog(write_fanout_playbooks(PROJECT / "playbooks", tmp_path / "playbooks", ROLES))


def page_batch(incident: str, people: int) -> NoticeBatch:
    """One page each for the big team's first ``people``, as a batch."""
    return NoticeBatch(
        notices=[
            BatchedNotice(
                send_id=f"page.bench_role_00{i}.0.0",
                notice=Notice(
                    incident_id=incident, person=person_id(i), kind="page", subject="Paged", body="Paged.", sms="Paged."
                ),
            )
            for i in range(people)
        ]
    )


def _activities(history) -> list[str]:
    return [
        event.activity_task_scheduled_event_attributes.activity_id
        for event in history.events
        if event.HasField("activity_task_scheduled_event_attributes")
    ]


def _timeline(state: dict, kind: str) -> list[dict]:
    return [event for event in state["timeline"] if event["kind"] == kind]


async def test_a_batch_pages_everyone_once_and_only_the_failed_person_is_tried_again(time_skipping_env, big_team, tmp_path):
    sms = Provider("sms", fail_once={FLAKY}, refuse={REFUSED})
    email = Provider("email", refuse={REFUSED})
    async with open_harness(
        time_skipping_env, big_team, tmp_path / "crisis.db", {ChannelKind.SMS: sms, ChannelKind.EMAIL: email}
    ) as harness:
        plan = harness.plan(FANOUT_PLAYBOOK)
        handle = await harness.start(plan)
        state = await harness.until(handle, lambda s: len(_timeline(s, "paged")) == ROLES - 1 and _timeline(s, "notice_failed"))
        everyone_else = Counter({person_id(i): 1 for i in range(ROLES) if person_id(i) != REFUSED})
        assert sms.pages() == everyone_else and email.pages() == everyone_else
        assert {e["data"]["person"] for e in _timeline(state, "paged")} == set(everyone_else)
        (refused,) = _timeline(state, "notice_failed")
        assert refused["data"]["channels"] == ["sms", "email"] and "400 Bad Request" in refused["data"]["reason"]
        assert REFUSED in refused["message"]
        # The flaky person's SMS went on the second try, their email once, in the batch.
        assert [m.person_id for m in sms.tries].count(FLAKY) == 2 and [m.person_id for m in email.tries].count(FLAKY) == 1
        flaky_role = f"bench_role_{int(FLAKY.rsplit('.', 1)[1]):03d}"
        scheduled = _activities(await handle.fetch_history())
        pages = [a for a in scheduled if a.startswith("page")]
        assert pages == ["pages.1", "pages.2", "pages.3", f"page.{flaky_role}.0.0"], pages
        assert ROLES > 2 * PAGE_BATCH

        # A batched page's SMS reported undelivered later goes again by email, to that person only.
        bounced = next(m for m in sms.delivered if m.person_id == BOUNCED)
        await handle.signal(
            IncidentWorkflow.delivery_failed,
            DeliveryFailure(ledger_key=bounced.ledger_key, person=BOUNCED, channel="sms", reason="30003 Unreachable"),
        )
        state = await harness.until(handle, lambda s: len(_timeline(s, "delivery_failed")) == 1)
        for _ in range(200):
            if email.pages()[BOUNCED] == 2:
                break
            await asyncio.sleep(0.05)
        assert email.pages() == everyone_else + Counter({BOUNCED: 1})
        assert sms.pages() == everyone_else
        await handle.terminate("test over")


async def test_a_batch_retried_as_a_whole_sends_nothing_twice(time_skipping_env, big_team, tmp_path):
    sms, email = Provider("sms"), Provider("email")
    async with open_harness(
        time_skipping_env,
        big_team,
        tmp_path / "crisis.db",
        {ChannelKind.SMS: sms, ChannelKind.EMAIL: email},
        activities_class=BatchLostOnce,
    ) as harness:
        plan = harness.plan(FANOUT_PLAYBOOK)
        handle = await harness.start(plan)
        await harness.until(handle, lambda s: len(_timeline(s, "paged")) == ROLES)
        assert BatchLostOnce.lost
        everyone = Counter({person_id(i): 1 for i in range(ROLES)})
        assert sms.pages() == everyone and email.pages() == everyone
        # The retried batch found every send of its first try in the ledger: no provider was asked twice.
        assert len(sms.tries) == len(email.tries) == ROLES
        pages = [a for a in _activities(await handle.fetch_history()) if a.startswith("page")]
        assert pages == ["pages.1", "pages.2", "pages.3"], pages
        await handle.terminate("test over")


class Slow(Provider):
    in_flight: set[str] = set()
    most_at_once = 0  # people whose sends were under way at the same time

    async def send(self, message: OutgoingMessage) -> Delivery:
        Slow.in_flight.add(message.person_id)
        Slow.most_at_once = max(Slow.most_at_once, len(Slow.in_flight))
        await asyncio.sleep(0.5)
        Slow.in_flight.discard(message.person_id)
        return await super().send(message)


async def test_a_batch_heartbeats_while_it_runs_and_reaches_no_more_people_at_once_than_allowed(big_team, tmp_path, monkeypatch):
    """A batch slowed by a loaded machine must not be cut off by its heartbeat timeout: sends the
    providers had accepted but the ledger had not yet recorded would go again on its retry. And the
    worker's batches together reach at most ``people_at_once`` people at a time (its activity slots,
    as many as single pages could be), not every person of every batch at once."""
    monkeypatch.setattr(activities.incident, "HEARTBEAT_EVERY_S", 0.05)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'crisis.db'}", single_connection=True)
    await create_schema(engine)
    sessions, slow = session_factory(engine), Slow("slow")
    channels = {kind: OutboxChannel(sessions) for kind in ChannelKind} | {ChannelKind.SMS: slow, ChannelKind.EMAIL: slow}
    notifier = IncidentActivities(sessions, RosterSource(big_team.directory), channels, "http://test", people_at_once=1)
    batch = page_batch("inc-beat", 2)
    environment = ActivityEnvironment()
    beats: list[int] = []
    environment.on_heartbeat = lambda *details: beats.append(len(slow.delivered))
    try:
        outcomes = await environment.run(notifier.notify_each, batch)
    finally:
        await engine.dispose()
    assert [len(outcome.deliveries) for outcome in outcomes] == [2, 2]
    assert beats.count(0) >= 5, beats  # beating before anyone was reached
    assert Slow.most_at_once == 1  # SMS and email of one person at a time


class Answering(Provider):
    """Takes each message only when told to, and says when it has been asked. As a provider's SDK in
    its thread, it goes on taking a message whose caller was cancelled meanwhile."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.asked = asyncio.Event()
        self.answer = asyncio.Event()

    async def send(self, message: OutgoingMessage) -> Delivery:
        self.asked.set()
        return await asyncio.shield(self._take(message))

    async def _take(self, message: OutgoingMessage) -> Delivery:
        await self.answer.wait()
        return await super().send(message)


async def test_a_batch_cut_off_while_the_providers_take_its_pages_sends_nothing_twice_on_its_retry(big_team, tmp_path):
    """Under load a batch's try can be cut off (its timeout: the worker cancels it) after the providers
    were asked and before the ledger recorded what they took; the retry must find it recorded."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'crisis.db'}", single_connection=True)
    await create_schema(engine)
    sessions, sms, email = session_factory(engine), Answering("sms"), Answering("email")
    channels = {kind: OutboxChannel(sessions) for kind in ChannelKind} | {ChannelKind.SMS: sms, ChannelKind.EMAIL: email}
    notifier = IncidentActivities(sessions, RosterSource(big_team.directory), channels, "http://test")
    batch = page_batch("inc-cut", 3)
    try:
        first_try = ActivityEnvironment()
        cut_off = asyncio.create_task(first_try.run(notifier.notify_each, batch))
        await asyncio.gather(sms.asked.wait(), email.asked.wait())
        first_try.cancel()
        await asyncio.wait([cut_off])
        sms.answer.set()
        email.answer.set()  # the providers take the pages after the try was cut off
        for _ in range(500):  # the retry comes a second later, its backoff; this try's writes take moments
            async with sessions() as session:
                if [row.status for row in await ledger.attempts(session, incident_id="inc-cut")] == ["sent"] * 6:
                    break
            await asyncio.sleep(0.02)
        outcomes = await ActivityEnvironment().run(notifier.notify_each, batch)  # the retry
    finally:
        await engine.dispose()
    assert [[(d.accepted, d.duplicate) for d in outcome.deliveries] for outcome in outcomes] == [[(True, True)] * 2] * 3
    assert len(sms.tries) == len(email.tries) == 3


def _escalation_timers(history, wait: timedelta) -> int:
    return sum(
        1
        for event in history.events
        if event.HasField("timer_started_event_attributes")
        and event.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta() == wait
    )


async def test_the_escalations_of_a_wave_wait_on_one_timer_and_each_still_ends_on_its_own(time_skipping_env, big_team, tmp_path):
    """``lean-fanout-wave-timers``: the roles whose first level is paged in one workflow task share their
    acknowledgement deadline's timer (one, not one a role); a role acknowledged meanwhile stops waiting
    alone, and every other role's level still ends unanswered at the deadline."""
    async with open_harness(time_skipping_env, big_team, tmp_path / "crisis.db") as harness:
        plan = harness.plan(FANOUT_PLAYBOOK)
        within = plan.playbook.identify.acknowledge_within.at(plan.severity)
        handle = await harness.start(plan)
        await harness.until(handle, lambda s: len(_timeline(s, "paged")) == ROLES)
        taker = person_id(7)
        await harness.act(handle, "acknowledge", Acknowledge(person=taker))
        await harness.until(handle, lambda s: all(taker not in pending["people"] for pending in s["pending"]))
        assert _escalation_timers(await handle.fetch_history(), within) == 1

        await harness.env.sleep(within + timedelta(seconds=1))
        state = await harness.until(handle, lambda s: len(_timeline(s, "escalation_exhausted")) == ROLES - 1)
        unanswered = {event["data"]["person"] for event in _timeline(state, "page_unanswered")}
        assert unanswered == {person_id(i) for i in range(ROLES)} - {taker}
        history = await handle.fetch_history()
        assert _escalation_timers(history, within) == 1
        await handle.terminate("test over")
    # The shared timer's path replays on today's code (no recorded history takes it yet).
    await Replayer(
        workflows=[IncidentWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(pydantic_data_converter),
    ).replay_workflow(history)
