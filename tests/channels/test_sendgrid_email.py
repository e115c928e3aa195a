"""The SendGrid email channel, with the real ``sendgrid`` SDK against the loopback fake."""

import time

import pytest

from channels.base import ChannelKind, Link, OutgoingMessage, PermanentDeliveryError, TransientDeliveryError
from channels.sendgrid_email import LEDGER_ARG, SendGridEmailChannel, render_html
from tests.channels.conftest import API_KEY, FROM_EMAIL
from tests.fakes.providers import free_port

KEY = "inc-1/page.incident_commander.0.0/email"


def email(address: str | None = "ewa.lewandowska@northwind.example", **fields) -> OutgoingMessage:
    values = {
        "ledger_key": KEY,
        "incident_id": "inc-1",
        "person_id": "ewa.lewandowska",
        "kind": "page",
        "channel": ChannelKind.EMAIL,
        "address": address,
        "subject": "SEV2 crisis: Online ordering is down",
        "body": "You are paged as incident_commander.\n\nAcknowledge within 5 minutes <or> the next person is paged.",
        "links": [
            Link(label="Acknowledge", url="https://c.example/a/tok?x=1&y=2"),
            Link(label="Incident", url="https://c.example/incidents/inc-1/view"),
        ],
    }
    values.update(fields)
    return OutgoingMessage(**values)


def channel(url: str, timeout: float = 5) -> SendGridEmailChannel:
    return SendGridEmailChannel(API_KEY, FROM_EMAIL, api_url=url, timeout=timeout)


async def test_sends_personalizations_from_content_and_the_ledger_key(fake_sendgrid):
    delivery = await channel(fake_sendgrid.url).send(email())

    [request] = fake_sendgrid.requests
    assert request.method == "POST" and request.path == "/v3/mail/send"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    mail = request.json
    assert mail["personalizations"] == [
        {"to": [{"email": "ewa.lewandowska@northwind.example"}], "custom_args": {LEDGER_ARG: KEY}}
    ]
    assert mail["from"] == {"email": FROM_EMAIL}
    assert mail["subject"] == "SEV2 crisis: Online ordering is down"
    assert [part["type"] for part in mail["content"]] == ["text/plain", "text/html"]
    plain, html = (part["value"] for part in mail["content"])
    assert plain.startswith("You are paged as incident_commander.") and "Acknowledge: https://c.example/a/tok?x=1&y=2" in plain
    assert "&lt;or&gt;" in html and "<or>" not in html
    assert 'href="https://c.example/a/tok?x=1&amp;y=2"' in html and ">Acknowledge</a>" in html
    assert "custom_args" not in mail  # top level: SendGrid's spec types it as a string
    assert delivery.accepted and delivery.channel == "sendgrid" and delivery.provider_id == request.provider_id


async def test_html_given_by_the_caller_is_sent_as_is(fake_sendgrid):
    await channel(fake_sendgrid.url).send(email(html="<p>Custom</p>"))
    assert fake_sendgrid.requests[-1].json["content"][1] == {"type": "text/html", "value": "<p>Custom</p>"}


def test_the_rendered_html_marks_a_drill_and_keeps_paragraphs():
    html = render_html(email(drill=True, body="one\ntwo\n\nthree"))
    assert "This is a drill." in html
    assert "one<br>two</p>" in html and ">three</p>" in html


async def test_a_named_sender_is_split_into_name_and_address(fake_sendgrid):
    named = SendGridEmailChannel(API_KEY, f"Northwind crisis team <{FROM_EMAIL}>", api_url=fake_sendgrid.url, timeout=5)
    await named.send(email())
    assert fake_sendgrid.requests[-1].json["from"] == {"name": "Northwind crisis team", "email": FROM_EMAIL}


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_provider_trouble_is_transient(fake_sendgrid, status):
    fake_sendgrid.fail(status=status)
    with pytest.raises(TransientDeliveryError, match=str(status)):
        await channel(fake_sendgrid.url).send(email())


async def test_an_invalid_address_is_permanent_and_the_reason_names_no_address(fake_sendgrid):
    with pytest.raises(PermanentDeliveryError) as refused:
        await channel(fake_sendgrid.url).send(email(address="nobody@invalid.example"))
    assert "Does not contain a valid address" in refused.value.reason
    assert "nobody@" not in refused.value.reason


async def test_a_wrong_key_is_permanent(fake_sendgrid):
    wrong = SendGridEmailChannel("SG.wrong.key", FROM_EMAIL, api_url=fake_sendgrid.url, timeout=5)
    with pytest.raises(PermanentDeliveryError, match="401"):
        await wrong.send(email())


async def test_no_address_is_permanent_without_a_request(fake_sendgrid):
    with pytest.raises(PermanentDeliveryError):
        await channel(fake_sendgrid.url).send(email(address=None))
    assert fake_sendgrid.requests == []


async def test_a_slow_provider_times_out_as_transient(fake_sendgrid):
    fake_sendgrid.delay(3)
    started = time.monotonic()
    with pytest.raises(TransientDeliveryError, match="in time"):
        await channel(fake_sendgrid.url, timeout=0.5).send(email())
    assert time.monotonic() - started < 2.5


async def test_nobody_listening_is_transient():
    with pytest.raises(TransientDeliveryError, match="cannot reach SendGrid"):
        await channel(f"http://127.0.0.1:{free_port()}", timeout=2).send(email())
