"""The delivery status webhooks: Twilio's status callback and SendGrid's Event Webhook, signed as
the providers sign them. The messages are first sent for real (SDK → loopback fake) through the
dispatcher, so the ledger rows are the ones production writes. The Temporal client is a test
double recording signals: the thing under test is the webhook, not the workflow."""

import json

import httpx
import pytest
import pytest_asyncio
from temporalio.service import RPCError, RPCStatusCode
from twilio.request_validator import RequestValidator

from channels.base import ChannelKind, OutgoingMessage
from channels.dispatch import Dispatcher
from channels.registry import build_channels
from domain.messages import DeliveryFailure
from store import ledger
from tests.channels.conftest import AUTH_TOKEN, EWA, PUBLIC_URL, provider_settings, running
from tests.fakes.providers import EventSigner

STATUS_URL = f"{PUBLIC_URL}/webhooks/twilio/status"


class FakeTemporal:
    def __init__(self):
        self.signals: list[tuple[str, str, object]] = []
        self.error: Exception | None = None

    def get_workflow_handle(self, workflow_id: str):
        outer = self

        class Handle:
            async def signal(self, name, arg):
                if outer.error is not None:
                    raise outer.error
                outer.signals.append((workflow_id, name, arg))

        return Handle()


@pytest.fixture
def signer() -> EventSigner:
    return EventSigner()


@pytest.fixture
def temporal() -> FakeTemporal:
    return FakeTemporal()


@pytest_asyncio.fixture(loop_scope="session")
async def app(tmp_path, fake_twilio, fake_sendgrid, signer, temporal, small_playbooks):
    settings = provider_settings(
        tmp_path,
        fake_twilio.url,
        fake_sendgrid.url,
        SENDGRID_WEBHOOK_PUBLIC_KEY=signer.public_key,
        CRISIS_PLAYBOOKS_DIR=str(small_playbooks),
    )
    async with running(settings, temporal) as application:
        yield application


async def send(app, channel: ChannelKind, kind: str = "page", key: str | None = None) -> str:
    """Send one message for real through the dispatcher; its ledger key."""
    sessions = app.state.sessions
    dispatcher = Dispatcher(sessions, build_channels(app.state.settings, sessions, timeout=5))
    address = "+48601204311" if channel is ChannelKind.SMS else "ewa.lewandowska@northwind.example"
    key = key or f"inc-w/{kind}.incident_commander.0.0/{channel.value}"
    await dispatcher.send(
        OutgoingMessage(
            ledger_key=key,
            incident_id="inc-w",
            person_id=EWA,
            kind=kind,
            channel=channel,
            address=address,
            subject="SEV2 crisis",
            body="You are paged.",
        )
    )
    return key


async def status_of(app, key: str) -> tuple[str, str | None]:
    async with app.state.sessions() as session:
        row = await ledger.accepted_attempt(session, key)
        return row.status, row.error


def signed_twilio(form: dict[str, str], url: str = STATUS_URL, token: str = AUTH_TOKEN) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, form)}


# ---- Twilio ----------------------------------------------------------------------------------


async def test_a_signed_delivered_callback_marks_the_sms_delivered(app, client, fake_twilio, temporal):
    key = await send(app, ChannelKind.SMS)
    url, form, headers = fake_twilio.callback_request(fake_twilio.accepted[0].provider_id, "delivered")
    assert url == STATUS_URL

    answer = await client.post("/webhooks/twilio/status", data=form, headers=headers)

    assert answer.status_code == 200 and answer.json()["changed"] is True
    assert await status_of(app, key) == ("delivered", None)
    assert temporal.signals == []


async def test_an_undelivered_page_sms_fails_the_row_and_signals_the_workflow_once(app, client, fake_twilio, temporal):
    key = await send(app, ChannelKind.SMS)
    sid = fake_twilio.accepted[0].provider_id
    _, form, headers = fake_twilio.callback_request(sid, "undelivered", error_code="30003")

    first = await client.post("/webhooks/twilio/status", data=form, headers=headers)
    again = await client.post("/webhooks/twilio/status", data=form, headers=headers)
    _, failed_form, failed_headers = fake_twilio.callback_request(sid, "failed", error_code="30005")
    later = await client.post("/webhooks/twilio/status", data=failed_form, headers=failed_headers)

    # The same callback again, or Twilio's other failure status: already recorded, a replay.
    assert [r.status_code for r in (first, again, later)] == [200, 409, 409]
    assert first.json()["changed"] is True and again.json()["detail"] == "the message is already recorded as failed"
    assert await status_of(app, key) == ("failed", "SMS undelivered (Twilio error 30003)")
    assert temporal.signals == [
        (
            "inc-w",
            "delivery_failed",
            DeliveryFailure(ledger_key=key, person=EWA, channel="sms", reason="SMS undelivered (Twilio error 30003)"),
        )
    ]


async def test_a_delivered_callback_after_a_failure_changes_nothing(app, client, fake_twilio):
    key = await send(app, ChannelKind.SMS)
    sid = fake_twilio.accepted[0].provider_id
    for status in ("failed", "delivered", "sent"):
        _, form, headers = fake_twilio.callback_request(sid, status)
        assert (await client.post("/webhooks/twilio/status", data=form, headers=headers)).status_code == 200
    assert (await status_of(app, key))[0] == "failed"


async def test_a_failed_reminder_is_recorded_without_a_signal(app, client, fake_twilio, temporal):
    key = await send(app, ChannelKind.SMS, kind="reminder")
    _, form, headers = fake_twilio.callback_request(fake_twilio.accepted[0].provider_id, "failed")
    assert (await client.post("/webhooks/twilio/status", data=form, headers=headers)).status_code == 200
    assert (await status_of(app, key))[0] == "failed"
    assert temporal.signals == []


@pytest.mark.parametrize(
    "headers",
    [
        {},  # missing
        {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},  # forged
        "wrong token",
        "wrong url",
    ],
    ids=["missing", "forged", "wrong-token", "wrong-url"],
)
async def test_a_bad_signature_is_403_and_changes_nothing(app, client, fake_twilio, temporal, headers):
    key = await send(app, ChannelKind.SMS)
    _, form, _ = fake_twilio.callback_request(fake_twilio.accepted[0].provider_id, "undelivered")
    if headers == "wrong token":
        headers = signed_twilio(form, token="0" * 32)
    elif headers == "wrong url":
        headers = signed_twilio(form, url="https://attacker.example/webhooks/twilio/status")

    answer = await client.post("/webhooks/twilio/status", data=form, headers=headers)

    assert answer.status_code == 403
    assert await status_of(app, key) == ("sent", None)
    assert temporal.signals == []


async def test_a_tampered_form_is_403(app, client, fake_twilio):
    key = await send(app, ChannelKind.SMS)
    _, form, headers = fake_twilio.callback_request(fake_twilio.accepted[0].provider_id, "delivered")
    form["MessageStatus"] = "undelivered"
    assert (await client.post("/webhooks/twilio/status", data=form, headers=headers)).status_code == 403
    assert (await status_of(app, key))[0] == "sent"


async def test_an_unknown_message_is_404(client):
    form = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "undelivered"}
    answer = await client.post("/webhooks/twilio/status", data=form, headers=signed_twilio(form))
    assert answer.status_code == 404


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ({"MessageStatus": "delivered"}, None),  # no MessageSid
        ({"MessageSid": "SM1"}, None),  # no MessageStatus
        (b"\xff\xfe", "application/x-www-form-urlencoded"),  # not UTF-8
        (b'{"MessageSid": "SM1"}', "application/json"),  # not a form
    ],
)
async def test_a_malformed_callback_is_400(client, body, content_type):
    if isinstance(body, dict):
        answer = await client.post("/webhooks/twilio/status", data=body, headers=signed_twilio(body))
    else:
        answer = await client.post(
            "/webhooks/twilio/status", content=body, headers={"Content-Type": content_type, **signed_twilio({})}
        )
    assert answer.status_code in (400, 403)
    assert answer.status_code == 400 or content_type is not None


async def test_without_an_auth_token_every_twilio_webhook_is_403(tmp_path, fake_twilio, fake_sendgrid, small_playbooks):
    settings = provider_settings(
        tmp_path, fake_twilio.url, fake_sendgrid.url, TWILIO_AUTH_TOKEN=None, CRISIS_PLAYBOOKS_DIR=str(small_playbooks)
    )
    form = {"MessageSid": "SM1", "MessageStatus": "delivered"}
    async with running(settings, FakeTemporal()) as application:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url=PUBLIC_URL) as http:
            answer = await http.post("/webhooks/twilio/status", data=form, headers=signed_twilio(form))
    assert answer.status_code == 403


async def test_temporal_down_is_503_and_the_failure_is_not_recorded_so_a_retry_signals(app, client, fake_twilio, temporal):
    key = await send(app, ChannelKind.SMS)
    _, form, headers = fake_twilio.callback_request(fake_twilio.accepted[0].provider_id, "undelivered")
    temporal.error = RPCError("unavailable", RPCStatusCode.UNAVAILABLE, b"")

    assert (await client.post("/webhooks/twilio/status", data=form, headers=headers)).status_code == 503
    assert (await status_of(app, key))[0] == "sent"

    temporal.error = None
    assert (await client.post("/webhooks/twilio/status", data=form, headers=headers)).status_code == 200
    assert (await status_of(app, key))[0] == "failed" and len(temporal.signals) == 1


async def test_a_closed_incident_still_gets_the_failure_recorded(app, client, fake_twilio, temporal):
    key = await send(app, ChannelKind.SMS)
    _, form, headers = fake_twilio.callback_request(fake_twilio.accepted[0].provider_id, "undelivered")
    temporal.error = RPCError("workflow execution already completed", RPCStatusCode.NOT_FOUND, b"")
    assert (await client.post("/webhooks/twilio/status", data=form, headers=headers)).status_code == 200
    assert (await status_of(app, key))[0] == "failed"


# ---- SendGrid --------------------------------------------------------------------------------


async def post_events(client, events, signer: EventSigner | None, tamper: bool = False):
    body = json.dumps(events).encode()
    headers = signer.headers(body) if signer else {"Content-Type": "application/json"}
    if tamper:
        body = body.replace(b"bounce", b"delivered") if b"bounce" in body else body + b" "
    return await client.post("/webhooks/sendgrid/events", content=body, headers=headers)


async def test_a_signed_delivered_event_marks_the_email_delivered(app, client, fake_sendgrid, signer, temporal):
    key = await send(app, ChannelKind.EMAIL)
    answer = await post_events(client, fake_sendgrid.event_batch(key, "delivered"), signer)
    assert answer.status_code == 200 and answer.json() == {"applied": 1, "ignored": 0, "unknown": 0, "replayed": 0}
    assert await status_of(app, key) == ("delivered", None)
    assert temporal.signals == []


@pytest.mark.parametrize("event", ["bounce", "dropped"])
async def test_a_bounced_or_dropped_page_email_signals_the_workflow_once(app, client, fake_sendgrid, signer, temporal, event):
    key = await send(app, ChannelKind.EMAIL)
    events = fake_sendgrid.event_batch(key, event, reason="550 5.1.1 <ewa.lewandowska@northwind.example>: no such user")

    first = await post_events(client, events, signer)
    again = await post_events(client, events, signer)

    assert first.json()["applied"] == 1 and again.status_code == 409
    status, error = await status_of(app, key)
    assert status == "failed" and error.startswith(f"email {event}: 550 5.1.1") and "northwind.example" not in error
    [(incident, name, failure)] = temporal.signals
    assert (incident, name) == ("inc-w", "delivery_failed")
    assert (failure.ledger_key, failure.person, failure.channel) == (key, EWA, "email")


async def test_a_replayed_batch_changes_nothing_and_its_signature_does_not_fit_another_time(
    app, client, fake_sendgrid, signer, temporal
):
    """A captured request sent again, byte for byte, is refused as a replay and moves nothing (the
    ledger only moves forward, once); with its timestamp changed the signature no longer fits."""
    key = await send(app, ChannelKind.EMAIL)
    body = json.dumps(fake_sendgrid.event_batch(key, "bounce")).encode()
    headers = signer.headers(body, timestamp="1764500000")
    first = await client.post("/webhooks/sendgrid/events", content=body, headers=headers)
    replayed = await client.post("/webhooks/sendgrid/events", content=body, headers=headers)
    assert first.json()["applied"] == 1 and replayed.status_code == 409
    moved = {**headers, "X-Twilio-Email-Event-Webhook-Timestamp": "1764500001"}
    assert (await client.post("/webhooks/sendgrid/events", content=body, headers=moved)).status_code == 403
    assert len(temporal.signals) == 1


async def test_a_batch_with_a_replayed_event_and_a_new_one_applies_the_new_one(app, client, fake_sendgrid, signer):
    delivered, fresh = (
        await send(app, ChannelKind.EMAIL, key="inc-w/a/email"),
        await send(app, ChannelKind.EMAIL, key="inc-w/b/email"),
    )
    assert (await post_events(client, fake_sendgrid.event_batch(delivered, "delivered"), signer)).status_code == 200
    events = [*fake_sendgrid.event_batch(delivered, "delivered"), *fake_sendgrid.event_batch(fresh, "delivered")]
    answer = await post_events(client, events, signer)
    assert answer.status_code == 200 and answer.json() == {"applied": 1, "ignored": 0, "unknown": 0, "replayed": 1}
    assert (await status_of(app, fresh))[0] == "delivered"


async def test_a_batch_mixes_ours_others_and_uninteresting_events(app, client, fake_sendgrid, signer, temporal):
    delivered, bounced = (
        await send(app, ChannelKind.EMAIL, key="inc-w/a/email"),
        await send(app, ChannelKind.EMAIL, key="inc-w/b/email"),
    )
    events = [
        *fake_sendgrid.event_batch(delivered, "processed"),
        *fake_sendgrid.event_batch(delivered, "delivered"),
        *fake_sendgrid.event_batch(bounced, "bounce"),
        {"email": "someone@else.example", "event": "delivered", "timestamp": 1},  # mail crisisflow did not send
        *fake_sendgrid.event_batch(bounced, "open"),
    ]
    answer = await post_events(client, events, signer)
    assert answer.status_code == 200 and answer.json() == {"applied": 2, "ignored": 3, "unknown": 0, "replayed": 0}
    assert (await status_of(app, delivered))[0] == "delivered" and (await status_of(app, bounced))[0] == "failed"
    assert len(temporal.signals) == 1


async def test_tampered_or_unsigned_events_are_403_and_change_nothing(app, client, fake_sendgrid, signer, temporal):
    key = await send(app, ChannelKind.EMAIL)
    events = fake_sendgrid.event_batch(key, "bounce")
    assert (await post_events(client, events, signer, tamper=True)).status_code == 403
    assert (await post_events(client, events, None)).status_code == 403
    assert (await post_events(client, events, EventSigner())).status_code == 403  # another key
    body = json.dumps(events).encode()
    broken = {**signer.headers(body), "X-Twilio-Email-Event-Webhook-Signature": "%%%not base64"}
    assert (await client.post("/webhooks/sendgrid/events", content=body, headers=broken)).status_code == 403
    assert await status_of(app, key) == ("sent", None)
    assert temporal.signals == []


@pytest.mark.parametrize("body", [b"not json", b'{"event": "bounce"}', b"[1, 2]", b'[{"no": "event"}]'])
async def test_a_malformed_batch_is_400(client, signer, body):
    answer = await client.post("/webhooks/sendgrid/events", content=body, headers=signer.headers(body))
    assert answer.status_code == 400


async def test_events_about_unknown_messages_only_are_404(client, signer):
    events = [{"email": "x@y.example", "event": "bounce", "timestamp": 1, "crisis_ledger_key": "inc-none/page.x/email"}]
    assert (await post_events(client, events, signer)).status_code == 404


async def test_without_a_public_key_every_event_is_refused_and_start_up_says_so(
    tmp_path, fake_twilio, fake_sendgrid, small_playbooks, caplog
):
    """A forged bounce must not re-send a page by SMS or write the timeline: with SendGrid sending
    and no verification key, nothing can be checked, so everything is refused (as Twilio's are
    without a token), and the API says so when it starts."""
    settings = provider_settings(tmp_path, fake_twilio.url, fake_sendgrid.url, CRISIS_PLAYBOOKS_DIR=str(small_playbooks))
    temporal = FakeTemporal()
    caplog.set_level("WARNING", logger="crisisflow.api")
    async with running(settings, temporal) as application:
        assert any("SENDGRID_WEBHOOK_PUBLIC_KEY is not set" in record.getMessage() for record in caplog.records)
        key = await send(application, ChannelKind.EMAIL)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url=PUBLIC_URL) as http:
            answer = await post_events(http, fake_sendgrid.event_batch(key, "bounce"), None)
        assert answer.status_code == 403 and "SENDGRID_WEBHOOK_PUBLIC_KEY" in answer.json()["detail"]
        assert (await status_of(application, key))[0] == "sent"
    assert temporal.signals == []
