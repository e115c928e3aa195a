"""The dispatcher and its notification ledger, alone and inside the real ``notify`` activity with
the real Twilio and SendGrid SDKs talking to the loopback fakes."""

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import event, select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from channels.base import ChannelKind, Delivery, OutgoingMessage, PermanentDeliveryError, TransientDeliveryError
from channels.dispatch import Dispatcher
from channels.outbox import OutboxChannel
from domain.messages import Notice
from store import ledger, tokens
from store.db import create_engine, create_schema, session_factory
from store.models import ActionTokenRow, OutboxRow
from tests.channels.conftest import EWA, INVALID_NUMBER, activity_info, make_activities, set_contact
from tests.postgres import PostgresServer


class Scripted:
    """A channel that answers from a script: a Delivery, or an exception to raise."""

    name = "scripted"

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = 0

    async def send(self, message: OutgoingMessage) -> Delivery:
        self.calls += 1
        answer = (
            self.answers.pop(0) if self.answers else Delivery(channel=self.name, accepted=True, provider_id=f"id-{self.calls}")
        )
        if isinstance(answer, BaseException):
            raise answer
        return answer


def message(key: str = "inc-1/page.a.0.0/sms", channel: ChannelKind = ChannelKind.SMS) -> OutgoingMessage:
    return OutgoingMessage(
        ledger_key=key,
        incident_id="inc-1",
        person_id=EWA,
        kind="page",
        channel=channel,
        address="+48601204311",
        subject="s",
        body="b",
    )


async def rows(sessions, key: str | None = None, incident: str | None = None):
    async with sessions() as session:
        return [
            (row.channel, row.attempt, row.status, row.provider, row.provider_id, row.error)
            for row in await ledger.attempts(session, ledger_key=key, incident_id=incident)
        ]


# ---- the dispatcher alone -----------------------------------------------------------------------


async def test_a_send_is_recorded_and_never_repeated_once_accepted(sessions):
    channel = Scripted()
    dispatcher = Dispatcher(sessions, {ChannelKind.SMS: channel})

    first = await dispatcher.send(message())
    again = await dispatcher.send(message())

    assert channel.calls == 1
    assert (first.duplicate, first.provider_id) == (False, "id-1")
    assert (again.duplicate, again.accepted, again.provider_id, again.channel) == (True, True, "id-1", "scripted")
    assert await rows(sessions) == [("sms", 1, "sent", "scripted", "id-1", None)]


async def test_each_failed_attempt_is_a_row_and_the_error_is_raised_again(sessions):
    channel = Scripted(TransientDeliveryError("HTTP 500"), TransientDeliveryError("timeout"))
    dispatcher = Dispatcher(sessions, {ChannelKind.SMS: channel})

    for _ in range(2):
        with pytest.raises(TransientDeliveryError):
            await dispatcher.send(message())
    await dispatcher.send(message())

    assert await rows(sessions) == [
        ("sms", 1, "failed", "scripted", None, "transient: HTTP 500"),
        ("sms", 2, "failed", "scripted", None, "transient: timeout"),
        ("sms", 3, "sent", "scripted", "id-3", None),
    ]


async def test_a_permanent_refusal_is_recorded(sessions):
    dispatcher = Dispatcher(sessions, {ChannelKind.SMS: Scripted(PermanentDeliveryError("Twilio 21211: invalid 'To'"))})
    with pytest.raises(PermanentDeliveryError):
        await dispatcher.send(message())
    assert await rows(sessions) == [("sms", 1, "failed", "scripted", None, "permanent: Twilio 21211: invalid 'To'")]


async def test_an_unforeseen_error_is_recorded_and_raised(sessions):
    dispatcher = Dispatcher(sessions, {ChannelKind.SMS: Scripted(RuntimeError("bug near +48601204311"))})
    with pytest.raises(RuntimeError):
        await dispatcher.send(message())
    [(_, _, status, _, _, error)] = await rows(sessions)
    assert status == "failed" and error == "unexpected: RuntimeError: bug near <phone>"


async def test_the_at_least_once_window_an_attempt_left_queued_is_tried_again(sessions):
    """A crash between the provider's acceptance and the ledger write leaves ``queued``: the retry
    cannot know whether the provider took it, so it sends again (documented in operations.md)."""
    async with sessions.kw["bind"].begin() as connection:
        history = (await ledger.key_histories(connection, [message().ledger_key]))[message().ledger_key]
        attempt = ledger.attempt_row(
            history,
            ledger_key=message().ledger_key,
            incident_id="inc-1",
            person_id=EWA,
            channel="sms",
            kind="page",
            provider="scripted",
        )
        await ledger.add_attempts(connection, [attempt])
    channel = Scripted()
    await Dispatcher(sessions, {ChannelKind.SMS: channel}).send(message())
    assert channel.calls == 1
    assert [(attempt, status) for _, attempt, status, *_ in await rows(sessions)] == [(1, "queued"), (2, "sent")]


async def test_an_accepted_send_is_recorded_once_the_database_is_back(tmp_path):
    """PostgreSQL goes away while the provider takes the message and is back 1.5 s later: the
    ``sent`` write waits for it, so the activity's retry does not send the message again."""
    server = PostgresServer()
    try:
        server.start()
        engine = create_engine(await server.create_database("dispatch"))
        await create_schema(engine)
        sessions = session_factory(engine)

        class AcceptedDuringAnOutage(Scripted):
            async def send(self, message: OutgoingMessage) -> Delivery:
                await asyncio.to_thread(server.halt)
                asyncio.get_running_loop().call_later(1.5, lambda: asyncio.create_task(asyncio.to_thread(server.resume)))
                return await super().send(message)

        channel = AcceptedDuringAnOutage()
        delivery = await Dispatcher(sessions, {ChannelKind.SMS: channel}).send(message())
        again = await Dispatcher(sessions, {ChannelKind.SMS: channel}).send(message())
        assert (delivery.accepted, again.duplicate, channel.calls) == (True, True, 1)
        assert await rows(sessions) == [("sms", 1, "sent", "scripted", "id-1", None)]
        await engine.dispose()
    finally:
        server.stop()


async def test_the_outbox_is_wrapped_too_and_still_fills_the_outbox(sessions):
    dispatcher = Dispatcher(sessions, {ChannelKind.PUBLIC: OutboxChannel(sessions)})
    public = message("inc-1/publish.v1/public", ChannelKind.PUBLIC)
    await dispatcher.send(public)
    again = await dispatcher.send(public)
    assert again.duplicate
    assert await rows(sessions) == [("public", 1, "sent", "outbox", None, None)]
    async with sessions() as session:
        assert len((await session.scalars(select(OutboxRow))).all()) == 1


async def mint_link(links: tokens.Links, message: OutgoingMessage) -> OutgoingMessage:
    minted = await links.mint(
        ledger_key=message.ledger_key,
        incident_id=message.incident_id,
        person_id=EWA,
        purpose="acknowledge",
        ttl=timedelta(hours=1),
    )
    return message.model_copy(update={"body": f"{message.body} {minted.code}"})


async def token_keys(sessions) -> list[str]:
    async with sessions() as session:
        return [row.ledger_key for row in (await session.scalars(select(ActionTokenRow))).all()]


async def test_an_outbox_send_its_link_and_its_ledger_row_are_one_transaction(sessions):
    class Broken(OutboxChannel):
        async def store_all(self, connection, messages):
            await super().store_all(connection, messages)
            raise RuntimeError("disk full")

    page = message("inc-1/page.a.0.0/email", ChannelKind.EMAIL)
    with pytest.raises(RuntimeError):
        await Dispatcher(sessions, {ChannelKind.EMAIL: Broken(sessions)}).send(page, mint_link)
    assert await rows(sessions) == [] and await token_keys(sessions) == []  # nothing half-written

    delivery = await Dispatcher(sessions, {ChannelKind.EMAIL: OutboxChannel(sessions)}).send(page, mint_link)
    assert delivery.accepted and not delivery.duplicate
    assert await rows(sessions) == [("email", 1, "sent", "outbox", None, None)]
    assert await token_keys(sessions) == [page.ledger_key]
    async with sessions() as session:
        [stored] = (await session.scalars(select(OutboxRow))).all()
    assert stored.body.startswith("b ") and len(stored.body) == len("b 1234")


async def test_a_provider_send_commits_its_link_with_the_queued_row_and_links_nothing_once_accepted(sessions):
    channel = Scripted(TransientDeliveryError("HTTP 503"))
    dispatcher = Dispatcher(sessions, {ChannelKind.SMS: channel})
    with pytest.raises(TransientDeliveryError):
        await dispatcher.send(message(), mint_link)
    assert await token_keys(sessions) == [message().ledger_key]
    await dispatcher.send(message(), mint_link)
    composed = []

    async def watched(links, outgoing):
        composed.append(outgoing.ledger_key)
        return await mint_link(links, outgoing)

    again = await dispatcher.send(message(), watched)
    assert again.duplicate and composed == [] and channel.calls == 2  # accepted: no new link, no send
    assert [(a, s) for _, a, s, *_ in await rows(sessions)] == [(1, "failed"), (2, "sent")]
    assert await token_keys(sessions) == [message().ledger_key]  # the retry replaced the unsent link


# ---- several sends at once (a batch of pages) ---------------------------------------------------


def commits_of(sessions) -> list[int]:
    """A list that counts the commits on the sessions' engine from now on."""
    counted: list[int] = []
    event.listen(sessions.kw["bind"].sync_engine, "commit", lambda _connection: counted.append(1))
    return counted


def statements_of(sessions) -> list[str]:
    """A list of the SQL statements run on the sessions' engine from now on."""
    run: list[str] = []
    event.listen(sessions.kw["bind"].sync_engine, "before_cursor_execute", lambda *args: run.append(args[2]))
    return run


async def test_sends_together_share_one_transaction_before_the_providers_and_one_after(sessions):
    channel = Scripted()
    dispatcher = Dispatcher(sessions, {ChannelKind.SMS: channel})
    await dispatcher.send(message("inc-1/page.a.0.0/sms"))  # accepted already: answered from the ledger
    commits, statements = commits_of(sessions), statements_of(sessions)

    keys = [f"inc-1/page.a.0.{n}/sms" for n in range(20)]
    outcomes = await dispatcher.send_all([(message(key), mint_link) for key in keys])

    assert len(commits) == 2  # not two a send
    reads = [statement for statement in statements if statement.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 2, reads  # the keys' attempts and the people's open link codes, each once for all
    inserts = [statement.split("(")[0].split()[-1] for statement in statements if statement.lstrip().upper().startswith("INSERT")]
    assert inserts == ["action_tokens", "notification_ledger"], inserts  # the links, then the queued rows, each once for all
    assert [(o.accepted, o.duplicate, o.provider_id) for o in outcomes[:2]] == [(True, True, "id-1"), (True, False, "id-2")]
    assert channel.calls == 20 and all(o.accepted for o in outcomes)
    assert sorted(await token_keys(sessions)) == sorted(keys[1:])  # a link for each send made, none for the one made before
    assert [(key, status) for key in keys for _, _, status, *_ in await rows(sessions, key)] == [(key, "sent") for key in keys]


async def test_a_send_that_fails_before_its_provider_is_called_fails_alone(sessions):
    class RefusesOne(OutboxChannel):
        async def store_all(self, connection, messages):
            if any(message.ledger_key.endswith(".3/email") for message in messages):
                raise RuntimeError("disk full")
            return await super().store_all(connection, messages)

    keys = [f"inc-1/page.a.0.{n}/email" for n in range(5)]
    dispatcher = Dispatcher(sessions, {ChannelKind.EMAIL: RefusesOne(sessions)})
    outcomes = await dispatcher.send_all([(message(key, ChannelKind.EMAIL), mint_link) for key in keys])

    assert [type(o).__name__ for o in outcomes] == ["Delivery"] * 3 + ["RuntimeError", "Delivery"]
    assert sorted(await token_keys(sessions)) == sorted(keys[:3] + keys[4:])  # nothing half-written for the failed one
    assert len(await rows(sessions)) == 4


async def test_an_accepted_send_is_recorded_even_if_its_caller_is_cancelled_meanwhile(sessions):
    """A send activity cut off by its start-to-close timeout is cancelled where it waits: if that is
    after the provider was called and before ``sent`` was written, the retry would send it again."""

    class Answering(Scripted):
        """Takes the message when told to; as an SDK in its thread, even if its caller is cancelled meanwhile."""

        called = asyncio.Event()
        answer = asyncio.Event()

        async def send(self, message: OutgoingMessage) -> Delivery:
            Answering.called.set()
            return await asyncio.shield(self._take(message))

        async def _take(self, message: OutgoingMessage) -> Delivery:
            await Answering.answer.wait()
            return await super().send(message)

    channel = Answering()
    dispatcher = Dispatcher(sessions, {ChannelKind.SMS: channel})
    sending = asyncio.create_task(dispatcher.send(message(), mint_link))
    await Answering.called.wait()
    sending.cancel()  # the activity's timeout, while the provider is taking the message
    with pytest.raises(asyncio.CancelledError):
        await sending
    Answering.answer.set()
    for _ in range(200):
        if [status for _, _, status, *_ in await rows(sessions)] == ["sent"]:
            break
        await asyncio.sleep(0.01)

    again = await dispatcher.send(message(), mint_link)  # the activity's retry
    assert again.duplicate and channel.calls == 1
    assert await rows(sessions) == [("sms", 1, "sent", "scripted", "id-1", None)]


# ---- inside the notify activity, real SDKs against the fakes ----------------------------------------


def notice(kind: str = "reminder", channels: tuple[str, ...] = ("sms", "email")) -> Notice:
    return Notice(
        incident_id="inc-test",
        person=EWA,
        kind=kind,
        subject="Overdue: assessment",
        body="Incident inc-test: the assessment was due at 10:05 UTC.",
        sms="Overdue: assessment of inc-test.",
        channels=list(channels),
    )


async def test_a_person_is_reached_on_every_channel_at_once(settings, sessions, roster_dir, fake_twilio, fake_sendgrid):
    fake_twilio.delay(0.5)
    fake_sendgrid.delay(0.5)
    await activity_info(ActivityEnvironment()).run(make_activities(settings, sessions, roster_dir).notify, notice())
    [sms], [mail] = fake_twilio.accepted, fake_sendgrid.accepted
    assert mail.at < sms.answered_at and sms.at < mail.answered_at  # neither channel waited for the other


async def test_500_then_success_sends_one_sms_and_the_email_only_once(settings, sessions, roster_dir, fake_twilio, fake_sendgrid):
    activities = make_activities(settings, sessions, roster_dir)
    fake_twilio.fail(times=1, status=500)
    environment = activity_info(ActivityEnvironment())

    with pytest.raises(ApplicationError) as first:
        await environment.run(activities.notify, notice())
    assert not first.value.non_retryable and "sms" in str(first.value)
    deliveries = await activity_info(environment, attempt=2).run(activities.notify, notice())

    assert len(fake_twilio.accepted) == 1 and len(fake_twilio.requests) == 2
    assert len(fake_sendgrid.accepted) == 1 and len(fake_sendgrid.requests) == 1  # not sent again by the retry
    assert [(d.channel, d.accepted, d.duplicate) for d in deliveries] == [("twilio", True, False), ("sendgrid", True, True)]
    ledger_rows = await rows(sessions, incident="inc-test")
    assert [(c, a, s) for c, a, s, *_ in ledger_rows] == [("sms", 1, "failed"), ("email", 1, "sent"), ("sms", 2, "sent")]
    assert [r for r in ledger_rows if r[0] == "sms" and r[2] == "sent"][0][4] == fake_twilio.accepted[0].provider_id
    assert ledger_rows[0][5].startswith("transient: Twilio 20500")


async def test_an_invalid_number_is_permanent_and_the_email_still_goes(
    settings, sessions, roster_dir, fake_twilio, fake_sendgrid
):
    set_contact(roster_dir, EWA, phone=INVALID_NUMBER)
    activities = make_activities(settings, sessions, roster_dir)

    deliveries = await activity_info(ActivityEnvironment()).run(activities.notify, notice())

    assert [(d.channel, d.accepted) for d in deliveries] == [("twilio", False), ("sendgrid", True)]
    assert "21211" in deliveries[0].error and INVALID_NUMBER not in deliveries[0].error
    assert fake_twilio.accepted == [] and len(fake_sendgrid.accepted) == 1
    assert [(c, s) for c, _, s, *_ in await rows(sessions, incident="inc-test")] == [("sms", "failed"), ("email", "sent")]


async def test_every_channel_refused_fails_the_activity_for_good(settings, sessions, roster_dir, fake_twilio, fake_sendgrid):
    set_contact(roster_dir, EWA, phone=INVALID_NUMBER, email="ewa@invalid.example")
    activities = make_activities(settings, sessions, roster_dir)

    with pytest.raises(ApplicationError) as failed:
        await activity_info(ActivityEnvironment()).run(activities.notify, notice())

    assert failed.value.non_retryable and failed.value.type == "PermanentDeliveryError"
    assert "21211" in str(failed.value) and "invalid.example" not in str(failed.value)


async def test_a_timeout_is_retried(settings, sessions, roster_dir, fake_twilio, fake_sendgrid):
    activities = make_activities(settings, sessions, roster_dir, timeout=0.5)
    fake_twilio.delay(2)
    environment = activity_info(ActivityEnvironment(), activity_id="reminder.timeout")

    with pytest.raises(ApplicationError, match="did not answer in time") as first:
        await environment.run(activities.notify, notice(channels=("sms",)))
    assert not first.value.non_retryable
    [delivery] = await activity_info(environment, activity_id="reminder.timeout", attempt=2).run(
        activities.notify, notice(channels=("sms",))
    )

    assert delivery.accepted and not delivery.duplicate
    assert [(a, s) for _, a, s, *_ in await rows(sessions, incident="inc-test")] == [(1, "failed"), (2, "sent")]
    # The fake took the slow request too, after the client had given up: the at-least-once
    # window of a timeout (the provider may have accepted what the client saw time out).
    assert len(fake_twilio.requests) == 2


async def test_a_page_mints_its_link_and_sends_it_through_the_ledger(settings, sessions, roster_dir, fake_twilio, fake_sendgrid):
    activities = make_activities(settings, sessions, roster_dir)
    environment = activity_info(ActivityEnvironment(), activity_id="page.incident_commander.0.0")

    await environment.run(activities.notify, notice(kind="page"))

    [sms] = fake_twilio.accepted
    [mail] = fake_sendgrid.accepted
    assert f"{settings.public_url}/a/" in sms.form["Body"]
    assert sms.form["StatusCallback"] == f"{settings.public_url}/webhooks/twilio/status"
    assert mail.json["personalizations"][0]["custom_args"] == {"crisis_ledger_key": "inc-test/page.incident_commander.0.0/email"}
    async with sessions() as session:
        assert len((await session.scalars(select(ActionTokenRow))).all()) == 2  # one link per channel
