"""Phone-call pages: the Twilio call channel with the real ``twilio`` SDK against the loopback fake,
and the voice webhooks (answered, status) signed as Twilio signs them. Key presses, which act on
the workflow, are tested with a real workflow in tests/workflow/test_call_escalation.py."""

import xml.etree.ElementTree as ElementTree
from urllib.parse import parse_qs, urlsplit

import pytest
import pytest_asyncio
from temporalio.testing import ActivityEnvironment

from channels.base import ChannelKind, OutgoingMessage, PermanentDeliveryError, TransientDeliveryError
from channels.dispatch import Dispatcher
from channels.registry import build_channels, choices
from channels.twilio_call import CALL_STATUS_PATH, GATHER_PATH, VOICE_PATH, TwilioCallChannel
from domain.messages import Notice
from store import ledger
from tests.channels.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    EWA,
    FROM_NUMBER,
    INVALID_NUMBER,
    PUBLIC_URL,
    activity_info,
    make_activities,
    provider_settings,
    running,
)


def call(
    address: str | None = "+48601204311",
    body: str = "This is crisisflow. SEV1 Hijacked - paged as incident_commander. Press 1.",
    language: str = "en",
) -> OutgoingMessage:
    return OutgoingMessage(
        ledger_key="inc-1/page.incident_commander.0.0/call",
        incident_id="inc-1",
        person_id=EWA,
        kind="page",
        channel=ChannelKind.CALL,
        address=address,
        subject="SEV1 crisis",
        body=body,
        language=language,
    )


def channel(url: str, timeout: float = 5) -> TwilioCallChannel:
    return TwilioCallChannel(
        ACCOUNT_SID, AUTH_TOKEN, from_number=FROM_NUMBER, public_url=PUBLIC_URL, api_url=url, timeout=timeout
    )


async def test_a_call_is_placed_with_the_page_to_read_machine_detection_and_a_status_callback(fake_twilio):
    delivery = await channel(fake_twilio.url).send(call(language="pl", body="Tu crisisflow. Naciśnij 1."))

    [request] = fake_twilio.requests
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
    form = request.form
    assert form["To"] == "+48601204311" and form["From"] == FROM_NUMBER
    assert form["MachineDetection"] == "Enable" and form["Method"] == "POST"
    assert form["StatusCallback"] == f"{PUBLIC_URL}{CALL_STATUS_PATH}" and "StatusCallbackEvent" not in form
    url = urlsplit(form["Url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{PUBLIC_URL}{VOICE_PATH}"
    assert parse_qs(url.query) == {"language": ["pl"], "say": ["Tu crisisflow. Naciśnij 1."]}
    assert delivery.accepted and delivery.channel == "twilio_call" and delivery.provider_id.startswith("CA")


async def test_a_refused_number_is_permanent_and_an_outage_is_retried(fake_twilio):
    with pytest.raises(PermanentDeliveryError, match="21211"):
        await channel(fake_twilio.url).send(call(address=INVALID_NUMBER))
    fake_twilio.fail(times=1, status=503)
    with pytest.raises(TransientDeliveryError):
        await channel(fake_twilio.url).send(call())
    with pytest.raises(PermanentDeliveryError, match="no phone number"):
        await channel(fake_twilio.url).send(call(address=None))


def test_calls_need_a_caller_id_not_a_messaging_service(tmp_path):
    with_number = provider_settings(tmp_path)
    assert {c.kind.value: c.provider for c in choices(with_number)}["call"] == "twilio_call"
    service_only = provider_settings(tmp_path, TWILIO_FROM_NUMBER=None, TWILIO_MESSAGING_SERVICE_SID="MG" + "a" * 32)
    call_choice = next(c for c in choices(service_only) if c.kind is ChannelKind.CALL)
    assert call_choice.provider == "outbox" and "TWILIO_FROM_NUMBER" in call_choice.detail


async def test_the_notify_activity_calls_for_a_page_and_texts_instead_for_anything_else(
    tmp_path, sessions, roster_dir, fake_twilio, fake_sendgrid
):
    settings = provider_settings(tmp_path, fake_twilio.url, fake_sendgrid.url)
    activities = make_activities(settings, sessions, roster_dir, timeout=5)
    page = Notice(
        incident_id="inc-c",
        person=EWA,
        kind="page",
        subject="SEV1 crisis: Hijacked",
        body="You are paged.",
        sms="SEV1 Hijacked - wezwanie jako incident_commander.",
        language="pl",
        channels=["call"],
    )
    env = activity_info(ActivityEnvironment(), workflow_id="inc-c", activity_id="page.incident_commander.0.0")

    [delivery] = await env.run(activities.notify, page)

    assert delivery.channel == "twilio_call"
    said = parse_qs(urlsplit(fake_twilio.call(delivery.provider_id).form["Url"]).query)["say"][0]
    assert said.startswith("Tu crisisflow. SEV1 Hijacked - wezwanie jako incident_commander.") and "Naciśnij 1" in said
    taken = page.model_copy(update={"kind": "taken", "sms": "Hijacked: james took it."})
    env = activity_info(ActivityEnvironment(), workflow_id="inc-c", activity_id="taken.incident_commander.ewa")
    [told] = await env.run(activities.notify, taken)
    assert told.channel == "twilio" and fake_twilio.requests[-1].path.endswith("/Messages.json")


# ---- the voice webhooks ------------------------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="session")
async def app(tmp_path, fake_twilio, small_playbooks):
    settings = provider_settings(tmp_path, fake_twilio.url, CRISIS_PLAYBOOKS_DIR=str(small_playbooks))
    async with running(settings) as application:
        yield application


async def placed(app) -> tuple[str, str]:
    """A call placed for real through the dispatcher: its ledger key and call SID."""
    sessions = app.state.sessions
    dispatcher = Dispatcher(sessions, build_channels(app.state.settings, sessions, timeout=5))
    delivery = await dispatcher.send(call())
    return call().ledger_key, delivery.provider_id


async def status_of(app, key: str) -> tuple[str, str | None]:
    async with app.state.sessions() as session:
        row = await ledger.accepted_attempt(session, key)
        return row.status, row.error


async def test_a_person_who_answers_hears_the_page_in_a_one_key_gather(app, client, fake_twilio):
    _, sid = await placed(app)
    url, form, headers = fake_twilio.answer_request(sid, answered_by="human")

    answer = await client.post(url.removeprefix(PUBLIC_URL), data=form, headers=headers)

    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/xml")
    twiml = ElementTree.fromstring(answer.text)
    gather = twiml.find("Gather")
    assert gather.get("numDigits") == "1" and gather.get("input") == "dtmf"
    assert gather.get("action") == f"{PUBLIC_URL}{GATHER_PATH}?language=en"
    assert [say.text for say in gather.findall("Say")] == [call().body] * 2
    assert {say.get("language") for say in gather.findall("Say")} == {"en-US"}
    assert "escalation goes on" in twiml.find("Say").text and twiml.find("Hangup") is not None


@pytest.mark.parametrize("machine", ["machine_start", "machine_end_beep", "fax"])
async def test_a_voicemail_or_fax_hears_nothing_and_the_call_does_not_count(app, client, fake_twilio, machine):
    key, sid = await placed(app)
    url, form, headers = fake_twilio.answer_request(sid, answered_by=machine)
    answer = await client.post(url.removeprefix(PUBLIC_URL), data=form, headers=headers)
    assert answer.status_code == 200 and answer.text.endswith("<Response><Hangup /></Response>")

    url, form, headers = fake_twilio.call_status_request(sid, "completed", answered_by=machine)
    assert (await client.post(url.removeprefix(PUBLIC_URL), data=form, headers=headers)).status_code == 200
    assert await status_of(app, key) == ("failed", f"call reached {machine} (not counted)")


async def test_the_call_status_is_recorded_once_and_a_replay_is_refused(app, client, fake_twilio):
    key, sid = await placed(app)
    url, form, headers = fake_twilio.call_status_request(sid, "completed", answered_by="human")
    first = await client.post(url.removeprefix(PUBLIC_URL), data=form, headers=headers)
    assert first.status_code == 200 and first.json()["changed"] is True
    assert await status_of(app, key) == ("delivered", None)

    replay = await client.post(url.removeprefix(PUBLIC_URL), data=form, headers=headers)
    assert replay.status_code == 409


@pytest.mark.parametrize("status", ["busy", "no-answer", "failed"])
async def test_a_call_nobody_took_is_a_failed_page_in_the_ledger(app, client, fake_twilio, status):
    key, sid = await placed(app)
    url, form, headers = fake_twilio.call_status_request(sid, status, answered_by=None)
    assert (await client.post(url.removeprefix(PUBLIC_URL), data=form, headers=headers)).status_code == 200
    assert await status_of(app, key) == ("failed", f"call {status}")


@pytest.mark.parametrize("path", [VOICE_PATH, GATHER_PATH, CALL_STATUS_PATH])
async def test_voice_webhooks_refuse_a_forged_or_unsigned_request(app, client, fake_twilio, path):
    key, sid = await placed(app)
    url, form, headers = fake_twilio.call_status_request(sid, "completed")
    forged = {"X-Twilio-Signature": "x" + headers["X-Twilio-Signature"][1:]}
    assert (await client.post(path, data=form | {"Digits": "1"}, headers=forged)).status_code == 403
    assert (await client.post(path, data=form | {"Digits": "1"})).status_code == 403
    assert await status_of(app, key) == ("sent", None)


async def test_a_status_for_a_call_we_never_placed_is_unknown(app, client, fake_twilio):
    _, sid = await placed(app)
    url, form, headers = fake_twilio.call_status_request(sid, "completed")
    form["CallSid"] = "CA" + "0" * 32
    resigned = fake_twilio.signed(url, form)[2]
    assert (await client.post(CALL_STATUS_PATH, data=form, headers=resigned)).status_code == 404
