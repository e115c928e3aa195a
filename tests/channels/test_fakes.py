"""The provider fakes as a process of their own, driven over HTTP (as an end-to-end test of a
subprocess-started stack uses them)."""

import subprocess
import sys

import pytest

from channels.base import ChannelKind, OutgoingMessage, TransientDeliveryError
from channels.sendgrid_email import SendGridEmailChannel
from channels.twilio_sms import TwilioSMSChannel
from tests.channels.conftest import ACCOUNT_SID, API_KEY, AUTH_TOKEN, FROM_EMAIL, FROM_NUMBER, PROJECT
from tests.fakes.providers import Fault, RemoteFake


@pytest.fixture(scope="module")
def fakes():
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.providers", "--auth-token", AUTH_TOKEN, "--api-key", API_KEY],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        settings = dict(process.stdout.readline().strip().split("=", 1) for _ in range(3))
        yield settings
    finally:
        process.terminate()
        assert process.wait(timeout=15) == 0


def message(channel: ChannelKind, address: str) -> OutgoingMessage:
    return OutgoingMessage(
        ledger_key=f"inc-f/page.x/{channel.value}",
        incident_id="inc-f",
        person_id="p",
        kind="page",
        channel=channel,
        address=address,
        subject="s",
        body="b",
    )


async def test_a_fake_process_serves_both_apis_and_takes_faults_over_http(fakes):
    twilio, sendgrid = RemoteFake(fakes["TWILIO_API_URL"]), RemoteFake(fakes["SENDGRID_API_URL"])
    sms = TwilioSMSChannel(ACCOUNT_SID, AUTH_TOKEN, from_number=FROM_NUMBER, api_url=twilio.url, timeout=5)
    email = SendGridEmailChannel(API_KEY, FROM_EMAIL, api_url=sendgrid.url, timeout=5)
    assert fakes["SENDGRID_WEBHOOK_PUBLIC_KEY"]

    twilio.inject(Fault(status=500))
    with pytest.raises(TransientDeliveryError):
        await sms.send(message(ChannelKind.SMS, "+48601204311"))
    delivery = await sms.send(message(ChannelKind.SMS, "+48601204311"))
    await email.send(message(ChannelKind.EMAIL, "ewa@northwind.example"))

    assert [r["status"] for r in twilio.requests()] == [500, 201]
    assert [r["provider_id"] for r in twilio.accepted()] == [delivery.provider_id]
    assert len(sendgrid.accepted()) == 1
    twilio.reset()
    assert twilio.requests() == []
