"""Contract tests: every request our channels send must be one the real provider accepts.

Twilio's and SendGrid's official OpenAPI descriptions (``tests/specs``, copied with their licences) are served by Stoplight
Prism (``prism mock --errors``), which checks each request against the spec (path, credentials,
content type, required fields, formats) and answers 422 when one breaks it; ``make prism``
installs it under ``tests/.node``. The real SDKs are pointed at it with TWILIO_API_URL and
SENDGRID_API_URL, exactly as in production but for the host.
"""

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from temporalio.testing import ActivityEnvironment

from channels.base import ChannelKind, Link, OutgoingMessage, PermanentDeliveryError
from channels.registry import build_channels
from channels.sendgrid_email import SendGridEmailChannel
from channels.twilio_call import TwilioCallChannel
from channels.twilio_sms import TwilioSMSChannel
from domain.messages import Notice
from tests.channels.conftest import (
    ACCOUNT_SID,
    API_KEY,
    AUTH_TOKEN,
    EWA,
    FROM_EMAIL,
    FROM_NUMBER,
    PROJECT,
    PUBLIC_URL,
    activity_info,
    make_activities,
    provider_settings,
)
from tests.fakes.providers import free_port

SPECS = Path(os.environ.get("CRISIS_PROVIDER_SPECS", PROJECT / "tests" / "specs"))
PRISM = PROJECT / "tests" / ".node" / "node_modules" / ".bin" / "prism"
CALLBACK = f"{PUBLIC_URL}/webhooks/twilio/status"


@dataclass
class Prism:
    url: str
    log: Path
    process: subprocess.Popen

    def said(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def prism_binary() -> Path:
    if not PRISM.exists():
        done = subprocess.run(["make", "-s", "prism"], cwd=PROJECT, capture_output=True, text=True, timeout=600)
        if not PRISM.exists():
            pytest.fail(f"Prism could not be installed (`make prism`):\n{done.stdout}\n{done.stderr}")
    return PRISM


def start_prism(spec: Path, log: Path, errors: bool = True) -> Prism:
    if not spec.exists():
        pytest.fail(f"{spec} is missing: the contract tests need tests/specs (or CRISIS_PROVIDER_SPECS)")
    port = free_port()
    output = open(log, "wb")
    process = subprocess.Popen(
        [str(prism_binary()), "mock", str(spec), "--host", "127.0.0.1", "--port", str(port), *(["--errors"] if errors else [])],
        stdout=output,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    return Prism(f"http://127.0.0.1:{port}", log, process)


def wait_ready(prism: Prism, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if prism.process.poll() is not None:
            pytest.fail(f"prism exited with {prism.process.returncode}:\n{prism.said()}")
        if "Prism is listening" in prism.log.read_text(errors="replace"):
            return
        time.sleep(0.2)
    pytest.fail(f"prism did not start in {timeout} s:\n{prism.said()}")


@pytest.fixture(scope="session")
def prisms(tmp_path_factory):
    folder = tmp_path_factory.mktemp("prism")
    twilio = start_prism(SPECS / "twilio_api_v2010.json", folder / "twilio.log")
    sendgrid = start_prism(SPECS / "sendgrid_v3.json", folder / "sendgrid.log")
    try:
        wait_ready(twilio)
        wait_ready(sendgrid)
        yield {"twilio": twilio, "sendgrid": sendgrid}
    finally:
        for prism in (twilio, sendgrid):
            prism.process.terminate()
            try:
                prism.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                prism.process.kill()


@pytest.fixture(scope="session")
def twilio_mock(prisms) -> Prism:
    return prisms["twilio"]


@pytest.fixture(scope="session")
def sendgrid_mock(prisms) -> Prism:
    return prisms["sendgrid"]


def sms(**fields) -> OutgoingMessage:
    values = {
        "ledger_key": "inc-c/page.incident_commander.0.0/sms",
        "incident_id": "inc-c",
        "person_id": EWA,
        "kind": "page",
        "channel": ChannelKind.SMS,
        "address": "+48601204311",
        "subject": "SEV1 crisis: Instagram account hijacked",
        "body": "SEV1 crisis: Instagram account hijacked. Reply ACK 4821 or open https://crisis.northwind.example/a/tok",
    }
    values.update(fields)
    return OutgoingMessage(**values)


def email(**fields) -> OutgoingMessage:
    values = {
        "ledger_key": "inc-c/page.incident_commander.0.0/email",
        "incident_id": "inc-c",
        "person_id": EWA,
        "kind": "page",
        "channel": ChannelKind.EMAIL,
        "address": "ewa.lewandowska@northwind.example",
        "subject": "[DRILL] SEV1 crisis: Instagram account hijacked",
        "body": "You are paged as incident_commander for incident inc-c.\n\nAcknowledge within 5 minutes.",
        "links": [
            Link(label="Acknowledge", url="https://crisis.northwind.example/a/tok"),
            Link(label="Incident", url="https://crisis.northwind.example/incidents/inc-c/view"),
        ],
        "drill": True,
    }
    values.update(fields)
    return OutgoingMessage(**values)


def twilio(prism: Prism, **kwargs) -> TwilioSMSChannel:
    kwargs.setdefault("from_number", FROM_NUMBER)
    return TwilioSMSChannel(ACCOUNT_SID, AUTH_TOKEN, status_callback=CALLBACK, api_url=prism.url, timeout=30, **kwargs)


def sendgrid(prism: Prism, sender: str = FROM_EMAIL) -> SendGridEmailChannel:
    return SendGridEmailChannel(API_KEY, sender, api_url=prism.url, timeout=30)


# ---- Twilio Messages API -----------------------------------------------------------------------


async def test_an_sms_from_a_number_matches_the_twilio_spec(twilio_mock):
    delivery = await twilio(twilio_mock).send(sms())
    assert delivery.accepted and delivery.provider_id == "SM" + "a" * 32, twilio_mock.said()


async def test_an_sms_from_a_messaging_service_matches_the_twilio_spec(twilio_mock):
    delivery = await twilio(twilio_mock, from_number=None, messaging_service_sid="MG" + "b" * 32).send(sms())
    assert delivery.accepted, twilio_mock.said()


async def test_the_longest_sms_matches_the_twilio_spec(twilio_mock):
    assert (await twilio(twilio_mock).send(sms(body="ą" * 5000))).accepted, twilio_mock.said()


async def test_the_mock_does_refuse_what_breaks_the_twilio_spec(twilio_mock):
    """The contract is not vacuous: a request the spec forbids is refused."""
    broken = TwilioSMSChannel(
        ACCOUNT_SID, AUTH_TOKEN, from_number=FROM_NUMBER, status_callback="not a url", api_url=twilio_mock.url
    )
    with pytest.raises(PermanentDeliveryError, match="422"):
        await broken.send(sms())
    unauthenticated = httpx.post(
        f"{twilio_mock.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json", data={"To": "+48601204311", "Body": "x"}
    )
    assert unauthenticated.status_code == 401


# ---- Twilio Calls API -------------------------------------------------------------------------


def phone_call(**fields) -> OutgoingMessage:
    values = {
        "ledger_key": "inc-c/page.incident_commander.0.0/call",
        "incident_id": "inc-c",
        "person_id": EWA,
        "kind": "page",
        "channel": ChannelKind.CALL,
        "address": "+48601204311",
        "subject": "SEV1 crisis: Instagram account hijacked",
        "body": "Tu crisisflow. SEV1 Instagram - wezwanie jako incident_commander. Naciśnij 1, aby potwierdzić.",
        "language": "pl",
    }
    values.update(fields)
    return OutgoingMessage(**values)


async def test_a_phone_call_page_matches_the_twilio_spec(twilio_mock):
    calls = TwilioCallChannel(
        ACCOUNT_SID, AUTH_TOKEN, from_number=FROM_NUMBER, public_url=PUBLIC_URL, api_url=twilio_mock.url, timeout=30
    )
    delivery = await calls.send(phone_call())
    assert delivery.accepted and delivery.provider_id.startswith("CA"), twilio_mock.said()


async def test_the_mock_does_refuse_a_call_that_breaks_the_twilio_spec(twilio_mock):
    broken = TwilioCallChannel(
        ACCOUNT_SID, AUTH_TOKEN, from_number=FROM_NUMBER, public_url="not a url", api_url=twilio_mock.url, timeout=30
    )
    with pytest.raises(PermanentDeliveryError, match="422"):
        await broken.send(phone_call())


# ---- SendGrid mail send --------------------------------------------------------------------------


async def test_an_email_matches_the_sendgrid_spec(sendgrid_mock):
    delivery = await sendgrid(sendgrid_mock).send(email())
    assert delivery.accepted, sendgrid_mock.said()


async def test_an_email_with_its_own_html_and_a_named_sender_matches_the_sendgrid_spec(sendgrid_mock):
    delivery = await sendgrid(sendgrid_mock, f"Northwind crisis team <{FROM_EMAIL}>").send(email(html="<p>Paged</p>", links=[]))
    assert delivery.accepted, sendgrid_mock.said()


async def test_the_mock_does_refuse_what_breaks_the_sendgrid_spec(sendgrid_mock):
    refused = httpx.post(
        f"{sendgrid_mock.url}/v3/mail/send", json={"from": {"email": FROM_EMAIL}}, headers={"Authorization": f"Bearer {API_KEY}"}
    )
    assert refused.status_code in (400, 422), refused.text
    unauthenticated = httpx.post(f"{sendgrid_mock.url}/v3/mail/send", json={})
    assert unauthenticated.status_code == 401


# ---- the whole path: settings → channels → notify --------------------------------------------


async def test_a_page_from_the_notify_activity_matches_both_specs(tmp_path, sessions, roster_dir, twilio_mock, sendgrid_mock):
    settings = provider_settings(tmp_path, twilio_mock.url, sendgrid_mock.url)
    assert {kind.value: channel.name for kind, channel in build_channels(settings, sessions).items()} == {
        "sms": "twilio",
        "email": "sendgrid",
        "call": "twilio_call",
        "public": "outbox",
    }
    activities = make_activities(settings, sessions, roster_dir, timeout=30)
    notice = Notice(
        incident_id="inc-c",
        person=EWA,
        kind="page",
        subject="SEV1 crisis: Instagram account hijacked",
        body="You are paged as incident_commander for incident inc-c.",
        sms="SEV1 crisis: Instagram account hijacked.",
    )

    deliveries = await activity_info(ActivityEnvironment(), workflow_id="inc-c", activity_id="page.incident_commander.0.0").run(
        activities.notify, notice
    )

    assert [(d.channel, d.accepted) for d in deliveries] == [("twilio", True), ("sendgrid", True)], (
        twilio_mock.said() + sendgrid_mock.said()
    )
