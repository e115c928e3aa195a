"""The Twilio SMS channel, with the real ``twilio`` SDK against the loopback fake."""

import asyncio
import base64
import time

import pytest
from twilio.http.http_client import TwilioHttpClient

from channels.base import ChannelKind, Link, OutgoingMessage, PermanentDeliveryError, TransientDeliveryError
from channels.twilio_sms import MAX_BODY, TwilioSMSChannel, _RebasedHttpClient
from tests.channels.conftest import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, INVALID_NUMBER, PUBLIC_URL
from tests.fakes.providers import free_port

CALLBACK = f"{PUBLIC_URL}/webhooks/twilio/status"


def sms(
    address: str | None = "+48601204311",
    body: str = "SEV2 crisis: the app is down. Reply ACK 1234 or open https://c.example/a/t",
    **fields,
) -> OutgoingMessage:
    return OutgoingMessage(
        ledger_key="inc-1/page.incident_commander.0.0/sms",
        incident_id="inc-1",
        person_id="ewa.lewandowska",
        kind="page",
        channel=ChannelKind.SMS,
        address=address,
        subject="SEV2 crisis",
        body=body,
        links=[Link(label="Acknowledge", url="https://c.example/a/t")],
        **fields,
    )


def channel(url: str, timeout: float = 5, **kwargs) -> TwilioSMSChannel:
    kwargs.setdefault("from_number", FROM_NUMBER)
    return TwilioSMSChannel(ACCOUNT_SID, AUTH_TOKEN, status_callback=CALLBACK, api_url=url, timeout=timeout, **kwargs)


async def test_sends_to_from_body_and_status_callback(fake_twilio):
    delivery = await channel(fake_twilio.url).send(sms())

    [request] = fake_twilio.requests
    assert request.method == "POST" and request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert base64.b64decode(request.headers["authorization"].split()[1]).decode() == f"{ACCOUNT_SID}:{AUTH_TOKEN}"
    assert request.form == {
        "To": "+48601204311",
        "From": FROM_NUMBER,
        "Body": "SEV2 crisis: the app is down. Reply ACK 1234 or open https://c.example/a/t",
        "StatusCallback": CALLBACK,
    }
    assert delivery.accepted and delivery.channel == "twilio" and delivery.provider_id == request.provider_id
    assert delivery.provider_id.startswith("SM")


async def test_a_messaging_service_is_the_sender_when_set(fake_twilio):
    service = "MG" + "a" * 32
    await channel(fake_twilio.url, from_number=None, messaging_service_sid=service).send(sms())
    form = fake_twilio.requests[-1].form
    assert form["MessagingServiceSid"] == service and "From" not in form


async def test_a_long_body_is_cut_to_what_twilio_takes(fake_twilio):
    await channel(fake_twilio.url).send(sms(body="x" * 2000))
    body = fake_twilio.requests[-1].form["Body"]
    assert len(body) == MAX_BODY and body.endswith("…")
    assert fake_twilio.requests[-1].accepted


@pytest.mark.parametrize("status", [500, 502, 503, 429])
async def test_provider_trouble_is_transient(fake_twilio, status):
    fake_twilio.fail(status=status)
    with pytest.raises(TransientDeliveryError, match=str(20429 if status == 429 else 20500)):
        await channel(fake_twilio.url).send(sms())
    assert not fake_twilio.accepted


@pytest.mark.parametrize(("to", "code"), [(INVALID_NUMBER, 21211), ("+15005550004", 21610), ("+15005550009", 21614)])
async def test_a_refused_recipient_is_permanent_and_the_reason_names_no_number(fake_twilio, to, code):
    with pytest.raises(PermanentDeliveryError) as refused:
        await channel(fake_twilio.url).send(sms(address=to))
    assert str(code) in refused.value.reason
    assert to not in refused.value.reason and "5005550" not in refused.value.reason


async def test_wrong_credentials_are_permanent(fake_twilio):
    wrong = TwilioSMSChannel(ACCOUNT_SID, "0" * 32, from_number=FROM_NUMBER, api_url=fake_twilio.url, timeout=5)
    with pytest.raises(PermanentDeliveryError, match="20003"):
        await wrong.send(sms())


async def test_no_phone_number_is_permanent_without_a_request(fake_twilio):
    with pytest.raises(PermanentDeliveryError):
        await channel(fake_twilio.url).send(sms(address=None))
    assert fake_twilio.requests == []


async def test_a_slow_provider_times_out_as_transient(fake_twilio):
    fake_twilio.delay(3)
    started = time.monotonic()
    with pytest.raises(TransientDeliveryError, match="in time"):
        await channel(fake_twilio.url, timeout=0.5).send(sms())
    assert time.monotonic() - started < 2.5


async def test_nobody_listening_is_transient():
    with pytest.raises(TransientDeliveryError, match="cannot reach Twilio"):
        await channel(f"http://127.0.0.1:{free_port()}", timeout=2).send(sms())


async def test_the_event_loop_keeps_running_while_twilio_is_slow(fake_twilio):
    fake_twilio.delay(0.6)
    ticks = 0

    async def tick():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        await channel(fake_twilio.url).send(sms())
    finally:
        ticker.cancel()
    assert ticks >= 8  # the loop ran all along (a blocking call would leave it at 0 or 1)


def test_the_base_url_is_replaced_only_for_twilio_hosts(monkeypatch):
    seen = []
    monkeypatch.setattr(TwilioHttpClient, "request", lambda self, method, url, *args, **kwargs: seen.append(url))
    client = _RebasedHttpClient("http://127.0.0.1:4010/prefix", timeout=1)
    client.request("POST", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?x=1")
    client.request("GET", "https://example.com/other")
    assert seen == ["http://127.0.0.1:4010/prefix/2010-04-01/Accounts/AC1/Messages.json?x=1", "https://example.com/other"]


def test_a_sender_is_required():
    with pytest.raises(ValueError, match="sender"):
        TwilioSMSChannel(ACCOUNT_SID, AUTH_TOKEN)
