"""Publishing webhooks: the signed POST (``channels/webhook.py``) to a loopback receiver that checks
the signature with ``verify``, through the dispatcher and its ledger; the CRISIS_PUBLISH_WEBHOOKS
and CRISIS_CUSTOMER_LIST_EMAIL settings; the publishing targets and ``crisis doctor``'s view of them."""

import json

import httpx
import pytest
from pydantic import ValidationError

from channels.base import ChannelKind, Link, OutgoingMessage, PermanentDeliveryError, TransientDeliveryError
from channels.dispatch import Dispatcher
from channels.doctor import diagnose
from channels.outbox import OutboxChannel
from channels.registry import (
    ListRecipientChannel,
    build_channels,
    publishing_target_names,
    publishing_targets,
    unknown_publishing_targets,
)
from channels.webhook import WebhookChannel, payload, sign, verify
from settings import Settings
from store import ledger
from tests.channels.conftest import provider_settings
from tests.fakes.providers import FakeWebhookReceiver

SECRET = "whsec-0123456789abcdef-crisisflow"


@pytest.fixture(scope="module")
def receiver_server():
    with FakeWebhookReceiver(secret=SECRET) as fake:
        yield fake


@pytest.fixture
def receiver(receiver_server):
    receiver_server.reset()
    yield receiver_server
    receiver_server.reset()


def statement(
    key: str = "inc-7/publish.holding.1/public", kind: str = "statement.holding", drill: bool = False
) -> OutgoingMessage:
    return OutgoingMessage(
        ledger_key=key,
        incident_id="inc-7",
        person_id=None,
        kind=kind,
        channel=ChannelKind.PUBLIC,
        subject="Login outage — statement v1",
        body="We are aware of login problems. Zażółć gęślą jaźń — next update 14:00.",
        links=[Link(label="Incident", url="https://crisis.northwind.example/incidents/inc-7/view")],
        drill=drill,
    )


async def rows(sessions, key: str):
    async with sessions() as session:
        return [
            (row.attempt, row.status, row.provider, row.provider_id, row.error)
            for row in await ledger.attempts(session, ledger_key=key)
        ]


# ---- sign and verify -----------------------------------------------------------------------------


def test_the_signature_is_the_hex_hmac_sha256_of_the_exact_bytes():
    import hashlib
    import hmac

    body = b'{"event":"statement.holding","text":"caf\xc3\xa9"}'
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert sign(body, SECRET) == expected
    assert verify(body, SECRET, expected)
    assert verify(body, SECRET, f"  {expected} ")


@pytest.mark.parametrize(
    "body, secret, header",
    [
        (b'{"event":"statement.holding","text":"cafe"}', SECRET, None),  # tampered body
        (b'{"event":"statement.holding","text":"caf\xc3\xa9"}', "another secret", None),  # wrong secret
        (b'{"event":"statement.holding","text":"caf\xc3\xa9"}', SECRET, ""),  # no header
        (b'{"event":"statement.holding","text":"caf\xc3\xa9"}', SECRET, "sha1=abc"),  # malformed
        (b'{"event":"statement.holding","text":"caf\xc3\xa9"}', "", None),  # no secret
    ],
)
def test_verification_fails_for_anything_but_the_signed_bytes(body, secret, header):
    original = b'{"event":"statement.holding","text":"caf\xc3\xa9"}'
    signature = sign(original, SECRET) if header is None else header
    assert not verify(body, secret, signature)


# ---- the request ---------------------------------------------------------------------------------


async def test_the_post_is_signed_over_the_exact_body_and_carries_the_documented_headers(receiver):
    channel = WebhookChannel("status_page", receiver.url_for("status_page"), SECRET, timeout=5)

    delivery = await channel.send(statement(drill=True))

    [request] = receiver.requests
    assert request.path == "/hooks/status_page" and request.status == 200
    assert verify(request.body, SECRET, request.headers["x-crisis-signature"])
    assert not verify(request.body.replace(b"login", b"LOGIN"), SECRET, request.headers["x-crisis-signature"])
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-crisis-delivery"] == "inc-7/publish.holding.1/public"
    assert request.headers["x-crisis-event"] == "statement.holding"
    document = json.loads(request.body.decode("utf-8"))
    assert set(document) == {"event", "incident_id", "ledger_key", "subject", "text", "links", "drill", "sent_at"}
    assert document["event"] == "statement.holding" and document["incident_id"] == "inc-7"
    assert document["text"].endswith("Zażółć gęślą jaźń — next update 14:00.")
    assert document["links"] == [{"label": "Incident", "url": "https://crisis.northwind.example/incidents/inc-7/view"}]
    assert document["drill"] is True and document["sent_at"].endswith("+00:00")
    assert (delivery.accepted, delivery.channel, delivery.provider_id) == (
        True,
        "status_page",
        receiver.deliveries[document["ledger_key"]],
    )
    assert SECRET not in repr(channel)


async def test_a_wrong_secret_is_refused_by_the_receiver_for_good(receiver):
    channel = WebhookChannel("status_page", receiver.url_for(), "not-the-shared-secret", timeout=5)
    with pytest.raises(PermanentDeliveryError, match="answered 401"):
        await channel.send(statement())
    assert receiver.accepted == []


async def test_without_a_request_id_the_ledger_key_is_the_provider_id():
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(204)

    channel = WebhookChannel("social", "https://scheduler.example/in", SECRET, transport=httpx.MockTransport(answer))
    delivery = await channel.send(statement(kind="social.pause"))
    assert delivery.provider_id == "inc-7/publish.holding.1/public"


@pytest.mark.parametrize(
    "status, error",
    [
        (408, TransientDeliveryError),
        (425, TransientDeliveryError),
        (429, TransientDeliveryError),
        (500, TransientDeliveryError),
        (503, TransientDeliveryError),
        (400, PermanentDeliveryError),
        (404, PermanentDeliveryError),
        (410, PermanentDeliveryError),
        (301, PermanentDeliveryError),
    ],
)
async def test_answers_are_sorted_into_transient_and_permanent(status, error):
    channel = WebhookChannel(
        "status_page",
        "https://status.example/hook",
        SECRET,
        transport=httpx.MockTransport(lambda request: httpx.Response(status, text="nope from ops@example.com")),
    )
    with pytest.raises(error) as raised:
        await channel.send(statement())
    assert f"answered {status}" in raised.value.reason and "ops@example.com" not in raised.value.reason


async def test_an_unreachable_receiver_is_transient():
    channel = WebhookChannel("status_page", "http://127.0.0.1:9/hook", SECRET, timeout=2)  # discard port: refused
    with pytest.raises(TransientDeliveryError, match="cannot reach webhook status_page"):
        await channel.send(statement())


async def test_a_bad_scheme_is_permanent():
    channel = WebhookChannel("status_page", "ftp://status.example/hook", SECRET)
    with pytest.raises(PermanentDeliveryError, match="bad URL"):
        await channel.send(statement())


def test_a_channel_without_a_secret_cannot_be_built():
    with pytest.raises(ValueError, match="no secret"):
        WebhookChannel("status_page", "https://status.example/hook", "")


def test_the_payload_follows_the_message():
    document = payload(statement(kind="social.resume"))
    assert (document["event"], document["ledger_key"], document["subject"]) == (
        "social.resume",
        "inc-7/publish.holding.1/public",
        "Login outage — statement v1",
    )


# ---- through the dispatcher and its ledger -------------------------------------------------------


async def test_503_then_200_is_retried_and_accepted_exactly_once(receiver, sessions):
    receiver.fail(times=1, status=503)
    dispatcher = Dispatcher(sessions, {ChannelKind.PUBLIC: WebhookChannel("status_page", receiver.url_for(), SECRET, timeout=5)})
    message = statement()

    with pytest.raises(TransientDeliveryError):
        await dispatcher.send(message)  # the activity fails; Temporal retries it with backoff
    first = await dispatcher.send(message)
    again = await dispatcher.send(message)  # a later retry of the same activity: not sent again

    assert [r.status for r in receiver.requests] == [503, 200]
    assert len(receiver.accepted) == 1 and list(receiver.deliveries) == [message.ledger_key]
    assert (first.accepted, first.duplicate) == (True, False)
    assert (again.duplicate, again.provider_id) == (True, first.provider_id)
    recorded = await rows(sessions, message.ledger_key)
    assert [(attempt, status, provider) for attempt, status, provider, _, _ in recorded] == [
        (1, "failed", "status_page"),
        (2, "sent", "status_page"),
    ]
    assert recorded[0][4] == 'transient: webhook status_page answered 503: {"message":"injected 503","status":503}'
    assert recorded[1][3] == first.provider_id


async def test_a_400_is_recorded_failed_for_good(receiver, sessions):
    receiver.fail(times=1, status=400, body={"error": "statement too long"})
    dispatcher = Dispatcher(sessions, {ChannelKind.PUBLIC: WebhookChannel("status_page", receiver.url_for(), SECRET, timeout=5)})
    message = statement(key="inc-7/publish.update.2/public")

    with pytest.raises(PermanentDeliveryError, match="answered 400"):
        await dispatcher.send(message)

    [(attempt, status, provider, provider_id, error)] = await rows(sessions, message.ledger_key)
    assert (attempt, status, provider, provider_id) == (1, "failed", "status_page", None)
    assert error.startswith("permanent: webhook status_page answered 400") and "statement too long" in error


async def test_a_receiver_slower_than_the_timeout_is_transient(receiver, sessions):
    receiver.delay(1.0, times=1)
    dispatcher = Dispatcher(
        sessions, {ChannelKind.PUBLIC: WebhookChannel("status_page", receiver.url_for(), SECRET, timeout=0.3)}
    )
    message = statement(key="inc-7/publish.update.3/public")

    with pytest.raises(TransientDeliveryError, match="did not answer within 0.3 s"):
        await dispatcher.send(message)
    await dispatcher.send(message)  # the retry; the receiver dedupes the late first one on X-Crisis-Delivery

    recorded = await rows(sessions, message.ledger_key)
    assert [(attempt, status) for attempt, status, *_ in recorded] == [(1, "failed"), (2, "sent")]
    assert recorded[0][4] == "transient: webhook status_page did not answer within 0.3 s"
    assert {r.headers["x-crisis-delivery"] for r in receiver.requests} == {message.ledger_key}


# ---- settings ------------------------------------------------------------------------------------


def webhooks_setting(**targets) -> str:
    return json.dumps(targets)


def test_publish_webhooks_are_parsed_and_their_secrets_kept_secret(tmp_path, monkeypatch):
    monkeypatch.setenv(
        "CRISIS_PUBLISH_WEBHOOKS",
        webhooks_setting(
            status_page={"url": "https://status.example/hook", "secret": SECRET},
            social_scheduler={"url": "https://scheduler.example/in", "secret": "another-long-secret", "timeout": 3},
        ),
    )
    settings = Settings(_env_file=None, CRISIS_DATA_DIR=str(tmp_path))

    assert sorted(settings.publish_webhooks) == ["social_scheduler", "status_page"]
    assert settings.publish_webhooks["status_page"].secret.get_secret_value() == SECRET
    assert settings.publish_webhooks["social_scheduler"].timeout == 3
    assert SECRET not in repr(settings) and SECRET not in str(settings.publish_webhooks)
    assert SECRET in settings.secret_values() and "another-long-secret" in settings.secret_values()


def test_unset_publish_webhooks_is_empty(tmp_path, monkeypatch):
    monkeypatch.setenv("CRISIS_PUBLISH_WEBHOOKS", "")
    assert Settings(_env_file=None, CRISIS_DATA_DIR=str(tmp_path)).publish_webhooks == {}


@pytest.mark.parametrize(
    "raw, says",
    [
        ('{"status_page": {"url": "https://status.example/hook", "secret": "' + SECRET + '"', "is not valid JSON"),
        ('["https://status.example/hook"]', "must be a JSON object"),
        ('{"status_page": {"secret": "' + SECRET + '"}}', "Field required"),
        ('{"status_page": {"url": "https://status.example/hook"}}', "Field required"),
        ('{"status_page": {"url": "https://status.example/hook", "secret": "' + SECRET + '", "sekret": 1}}', "Extra inputs"),
        ('{"Status Page": {"url": "https://status.example/hook", "secret": "' + SECRET + '"}}', "target name 'Status Page'"),
        ('{"outbox": {"url": "https://status.example/hook", "secret": "' + SECRET + '"}}', "is reserved"),
    ],
)
def test_a_malformed_publish_webhooks_is_a_validation_error_naming_the_setting(tmp_path, monkeypatch, raw, says):
    monkeypatch.setenv("CRISIS_PUBLISH_WEBHOOKS", raw)
    with pytest.raises(ValidationError) as raised:
        Settings(_env_file=None, CRISIS_DATA_DIR=str(tmp_path))
    text = str(raised.value)
    assert "CRISIS_PUBLISH_WEBHOOKS" in text and says in text
    assert SECRET not in text  # the value is never echoed
    [problem] = raised.value.errors()
    assert problem["loc"][0] == "CRISIS_PUBLISH_WEBHOOKS"


# ---- publishing targets ----------------------------------------------------------------------------


def targets_settings(tmp_path, sendgrid_url=None, list_email=None, **targets) -> Settings:
    overrides = {"CRISIS_PUBLISH_WEBHOOKS": webhooks_setting(**targets), "CRISIS_CUSTOMER_LIST_EMAIL": list_email}
    if sendgrid_url is None:
        overrides.update(SENDGRID_API_KEY=None, SENDGRID_FROM_EMAIL=None)
    return provider_settings(tmp_path, None, sendgrid_url, **overrides)


async def test_targets_by_name_with_outbox_and_customer_email_always_there(tmp_path, sessions, receiver):
    settings = targets_settings(
        tmp_path,
        status_page={"url": receiver.url_for("status_page"), "secret": SECRET},
        social_scheduler={"url": receiver.url_for("social"), "secret": SECRET, "timeout": 2.5},
        broken={"url": "status.example/hook", "secret": " "},
    )
    targets = publishing_targets(settings, sessions)

    assert list(targets) == ["social_scheduler", "status_page", "customer_email", "outbox"]
    assert publishing_target_names(settings) == ["social_scheduler", "status_page", "customer_email", "outbox"]
    assert unknown_publishing_targets(settings, ["status_page", "broken", "twitter", "outbox"]) == ["broken", "twitter"]
    assert isinstance(targets["status_page"], WebhookChannel) and targets["social_scheduler"]._timeout == 2.5
    assert isinstance(targets["outbox"], OutboxChannel) and targets["customer_email"] is targets["outbox"]

    delivery = await Dispatcher(sessions, {ChannelKind.PUBLIC: targets["social_scheduler"]}).send(statement(kind="social.pause"))
    assert delivery.channel == "social_scheduler" and receiver.accepted[0].path == "/hooks/social"


async def test_customer_email_goes_to_the_list_through_sendgrid(tmp_path, sessions, fake_sendgrid):
    settings = targets_settings(tmp_path, fake_sendgrid.url, list_email="customers@lists.northwind.example")
    channels = build_channels(settings, sessions, timeout=5)
    targets = publishing_targets(settings, sessions, channels)
    assert isinstance(targets["customer_email"], ListRecipientChannel) and targets["customer_email"].name == "sendgrid"

    message = statement(key="inc-7/publish.holding.1/public/customer_email")
    delivery = await Dispatcher(sessions, {ChannelKind.PUBLIC: targets["customer_email"]}).send(message)

    [mail] = fake_sendgrid.accepted
    assert mail.json["personalizations"][0]["to"] == [{"email": "customers@lists.northwind.example"}]
    assert mail.json["subject"] == "Login outage — statement v1"
    assert delivery.provider_id == mail.provider_id
    assert [(a, s, p) for a, s, p, *_ in await rows(sessions, message.ledger_key)] == [(1, "sent", "sendgrid")]


async def test_customer_email_without_sendgrid_or_a_list_goes_to_the_outbox(tmp_path, sessions, fake_sendgrid):
    assert isinstance(
        publishing_targets(targets_settings(tmp_path, list_email="customers@lists.northwind.example"), sessions)[
            "customer_email"
        ],
        OutboxChannel,
    )
    assert isinstance(
        publishing_targets(targets_settings(tmp_path, fake_sendgrid.url), sessions)["customer_email"], OutboxChannel
    )


# ---- crisis doctor -----------------------------------------------------------------------------------


def test_doctor_lists_the_targets_and_checks_them_without_showing_secrets(tmp_path):
    settings = targets_settings(
        tmp_path,
        list_email="customers@lists.northwind.example",
        status_page={"url": "https://user:pw@status.example/hook?token=t0ken", "secret": SECRET},
        social_scheduler={"url": "http://scheduler.example/in", "secret": "short"},
        relative={"url": "/hooks/crisis", "secret": SECRET},
        nosecret={"url": "https://status.example/other", "secret": "   "},
    )
    diagnosis = diagnose(settings)

    shown = {choice.target: (choice.provider, choice.detail, choice.problem) for choice in diagnosis.publishing}
    assert list(shown) == ["nosecret", "relative", "social_scheduler", "status_page", "customer_email", "outbox"]
    assert shown["status_page"] == ("webhook", "signed POST to https://status.example/hook", None)
    assert shown["relative"][2] == "url is not an absolute http(s) URL"
    assert shown["nosecret"][2] == "secret is empty"
    assert shown["customer_email"][0] == "outbox"
    assert not diagnosis.ok
    assert (
        "CRISIS_PUBLISH_WEBHOOKS target 'relative': url is not an absolute http(s) URL (the target is left out)"
        in diagnosis.errors
    )
    assert "CRISIS_PUBLISH_WEBHOOKS target 'nosecret': secret is empty (the target is left out)" in diagnosis.errors
    assert any("'social_scheduler' is plain http" in warning for warning in diagnosis.warnings)
    assert any("'social_scheduler': the secret is shorter" in warning for warning in diagnosis.warnings)
    assert any("CRISIS_CUSTOMER_LIST_EMAIL is set but SendGrid is not configured" in warning for warning in diagnosis.warnings)
    everything = " ".join([*diagnosis.errors, *diagnosis.warnings, *(c.detail for c in diagnosis.publishing)])
    assert (
        SECRET not in everything
        and "short" not in everything.replace("shorter", "")
        and "t0ken" not in everything
        and "pw" not in everything
    )


def test_doctor_is_content_with_good_targets(tmp_path, fake_sendgrid):
    settings = targets_settings(
        tmp_path,
        fake_sendgrid.url,
        list_email="customers@lists.northwind.example",
        status_page={"url": "https://status.example/hook", "secret": SECRET},
    )
    diagnosis = diagnose(settings)
    assert not [p for p in diagnosis.errors if "PUBLISH" in p or "CUSTOMER" in p]
    assert [(c.target, c.provider) for c in diagnosis.publishing] == [
        ("status_page", "webhook"),
        ("customer_email", "sendgrid"),
        ("outbox", "outbox"),
    ]


def test_doctor_refuses_a_malformed_customer_list_address(tmp_path):
    diagnosis = diagnose(targets_settings(tmp_path, list_email="customers at northwind"))
    assert "CRISIS_CUSTOMER_LIST_EMAIL 'customers at northwind' is not an email address" in diagnosis.errors
