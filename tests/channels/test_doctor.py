"""``crisis doctor`` and the channel choice it reports (``build_channels``)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from channels.base import ChannelKind
from channels.doctor import diagnose
from channels.outbox import OutboxChannel
from channels.registry import build_channels
from channels.sendgrid_email import SendGridEmailChannel
from channels.twilio_sms import TwilioSMSChannel
from tests.channels.conftest import ACCOUNT_SID, API_KEY, AUTH_TOKEN, FROM_EMAIL, PUBLIC_URL, provider_settings

CRISIS = Path(sys.executable).parent / "crisis"
PROVIDER_VARIABLES = (
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_FROM_NUMBER",
    "TWILIO_MESSAGING_SERVICE_SID",
    "TWILIO_API_URL",
    "SENDGRID_API_KEY",
    "SENDGRID_FROM_EMAIL",
    "SENDGRID_WEBHOOK_PUBLIC_KEY",
    "SENDGRID_API_URL",
    "CRISIS_PUBLIC_URL",
)
NONE = dict.fromkeys(PROVIDER_VARIABLES[:-1])


def doctor(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in PROVIDER_VARIABLES}
    return subprocess.run(
        [str(CRISIS), "doctor"], cwd=tmp_path, env={**clean, "COLUMNS": "200", **env}, capture_output=True, text=True, timeout=60
    )


# ---- which channel ---------------------------------------------------------------------------------


def kinds(channels) -> dict[str, str]:
    return {kind.value: channel.name for kind, channel in channels.items()}


def test_without_credentials_everything_goes_to_the_outbox(tmp_path):
    channels = build_channels(provider_settings(tmp_path, **NONE), sessions=None)
    assert kinds(channels) == {"sms": "outbox", "email": "outbox", "call": "outbox", "public": "outbox"}
    assert all(isinstance(channel, OutboxChannel) for channel in channels.values())


def test_with_credentials_sms_is_twilio_and_email_is_sendgrid(tmp_path):
    channels = build_channels(provider_settings(tmp_path), sessions=None)
    assert isinstance(channels[ChannelKind.SMS], TwilioSMSChannel)
    assert isinstance(channels[ChannelKind.EMAIL], SendGridEmailChannel)
    assert isinstance(channels[ChannelKind.PUBLIC], OutboxChannel)


@pytest.mark.parametrize(
    ("missing", "sms", "email", "call"),
    [
        ({"TWILIO_AUTH_TOKEN": None}, "outbox", "sendgrid", "outbox"),
        ({"TWILIO_ACCOUNT_SID": ""}, "outbox", "sendgrid", "outbox"),
        ({"TWILIO_FROM_NUMBER": None}, "outbox", "sendgrid", "outbox"),
        ({"TWILIO_FROM_NUMBER": None, "TWILIO_MESSAGING_SERVICE_SID": "MG" + "1" * 32}, "twilio", "sendgrid", "outbox"),
        ({"SENDGRID_FROM_EMAIL": None}, "twilio", "outbox", "twilio_call"),
        ({"SENDGRID_API_KEY": "  "}, "twilio", "outbox", "twilio_call"),
    ],
)
def test_a_provider_needs_its_credentials_and_sender(tmp_path, missing, sms, email, call):
    channels = build_channels(provider_settings(tmp_path, **missing), sessions=None)
    assert kinds(channels) == {"sms": sms, "email": email, "call": call, "public": "outbox"}


# ---- the form of the settings ----------------------------------------------------------------------


def test_well_formed_settings_pass(tmp_path):
    diagnosis = diagnose(provider_settings(tmp_path))
    assert diagnosis.ok, diagnosis.errors
    assert [(c.kind.value, c.provider) for c in diagnosis.channels] == [
        ("sms", "twilio"),
        ("email", "sendgrid"),
        ("call", "twilio_call"),
        ("public", "outbox"),
    ]


@pytest.mark.parametrize(
    ("setting", "value", "says"),
    [
        ("TWILIO_ACCOUNT_SID", "XY" + "0" * 32, "TWILIO_ACCOUNT_SID is not AC"),
        ("TWILIO_AUTH_TOKEN", "not-a-token", "TWILIO_AUTH_TOKEN is not 32 hex"),
        ("TWILIO_FROM_NUMBER", "0048601204311", "not an E.164 number"),
        ("TWILIO_FROM_NUMBER", "Northwind", "not an E.164 number"),
        ("TWILIO_MESSAGING_SERVICE_SID", "MG123", "not MG followed by 32 hex"),
        ("TWILIO_API_URL", "localhost:4010", "TWILIO_API_URL 'localhost:4010' is not an absolute"),
        ("SENDGRID_API_KEY", "abc", "SENDGRID_API_KEY does not have the form"),
        ("SENDGRID_FROM_EMAIL", "crisis team", "is not an email address"),
        ("SENDGRID_WEBHOOK_PUBLIC_KEY", "bm90IGEga2V5", "SENDGRID_WEBHOOK_PUBLIC_KEY is not"),
        ("SENDGRID_API_URL", "ftp://x", "SENDGRID_API_URL 'ftp://x' is not an absolute"),
        ("CRISIS_PUBLIC_URL", "crisis.northwind.example", "CRISIS_PUBLIC_URL 'crisis.northwind.example' is not an absolute"),
        ("CRISIS_PUBLIC_URL", "https://crisis_flow.example", "underscore"),
        ("CRISIS_PUBLIC_URL", "https://crisis.example/?x=1", "query"),
    ],
)
def test_a_malformed_setting_is_an_error(tmp_path, setting, value, says):
    diagnosis = diagnose(provider_settings(tmp_path, **{setting: value}))
    assert not diagnosis.ok
    assert any(says in error for error in diagnosis.errors), diagnosis.errors


def test_partial_configuration_is_an_error_naming_what_is_missing(tmp_path):
    diagnosis = diagnose(provider_settings(tmp_path, TWILIO_AUTH_TOKEN=None, SENDGRID_FROM_EMAIL=None))
    assert any("Twilio is partly configured" in e and "TWILIO_AUTH_TOKEN" in e for e in diagnosis.errors)
    assert any("SendGrid is partly configured" in e and "SENDGRID_FROM_EMAIL" in e for e in diagnosis.errors)


def test_a_local_public_url_and_unsigned_events_are_warnings(tmp_path):
    diagnosis = diagnose(provider_settings(tmp_path, CRISIS_PUBLIC_URL="http://localhost:8000"))
    assert diagnosis.ok
    assert any("is local" in w for w in diagnosis.warnings)
    assert any(
        "SENDGRID_WEBHOOK_PUBLIC_KEY is not set: /webhooks/sendgrid/events refuses every event" in w for w in diagnosis.warnings
    )


def test_a_real_verification_key_is_accepted(tmp_path):
    from tests.fakes.providers import EventSigner

    assert diagnose(provider_settings(tmp_path, SENDGRID_WEBHOOK_PUBLIC_KEY=EventSigner().public_key)).ok


# ---- the command ------------------------------------------------------------------------------------


def test_the_command_reports_the_outbox_by_default(tmp_path):
    result = doctor(tmp_path)
    assert result.returncode == 0, result.stderr
    for kind in ("sms", "email", "public"):
        assert any(line.split("│")[1:3] and kind in line and "outbox" in line for line in result.stdout.splitlines()), (
            result.stdout
        )
    assert "nothing was sent" in result.stdout


def test_the_command_fails_on_a_malformed_setting_and_never_prints_a_secret(tmp_path):
    token = "s3cr3t-" + "9" * 20
    key = "SG.leaky.value-that-must-not-show"
    result = doctor(
        tmp_path,
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=token,
        TWILIO_FROM_NUMBER="+4860120431",
        SENDGRID_API_KEY=key,
        SENDGRID_FROM_EMAIL="not an address",
        CRISIS_PUBLIC_URL=PUBLIC_URL,
    )
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "TWILIO_AUTH_TOKEN is not 32 hex" in output and "SENDGRID_FROM_EMAIL" in output
    assert token not in output and key not in output and "leaky" not in output


def test_the_command_passes_with_good_settings_and_shows_no_secret(tmp_path):
    result = doctor(
        tmp_path,
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_FROM_NUMBER="+48601204311",
        SENDGRID_API_KEY=API_KEY,
        SENDGRID_FROM_EMAIL=FROM_EMAIL,
        CRISIS_PUBLIC_URL=PUBLIC_URL,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "twilio" in result.stdout and "sendgrid" in result.stdout
    assert f"{PUBLIC_URL}/webhooks/twilio/status" in result.stdout
    assert AUTH_TOKEN not in result.stdout + result.stderr and API_KEY not in result.stdout + result.stderr
