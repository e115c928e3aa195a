"""Which channel carries each kind of message, from the settings.

SMS goes through Twilio once its account, token and a sender are set; email through SendGrid once
its key and sender are set; anything not fully configured (and the public channel, for now) goes
to the outbox, the default and the only channel used when no credentials are set.
"""

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import async_sessionmaker

from channels.base import Channel, ChannelKind
from channels.outbox import OutboxChannel
from channels.sendgrid_email import SendGridEmailChannel
from channels.twilio_sms import STATUS_CALLBACK_PATH, TwilioSMSChannel

log = logging.getLogger("crisisflow.channels")


def _set(value) -> bool:
    if value is None:
        return False
    if hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    return bool(str(value).strip())


def twilio_configured(settings) -> bool:
    return (
        _set(settings.twilio_account_sid)
        and _set(settings.twilio_auth_token)
        and (_set(settings.twilio_from_number) or _set(settings.twilio_messaging_service_sid))
    )


def sendgrid_configured(settings) -> bool:
    return _set(settings.sendgrid_api_key) and _set(settings.sendgrid_from_email)


def twilio_status_callback(settings) -> str:
    return f"{settings.public_url}{STATUS_CALLBACK_PATH}"


@dataclass(frozen=True)
class Choice:
    kind: ChannelKind
    provider: str  # outbox, twilio or sendgrid
    detail: str  # what it sends from / to, no secret


def choices(settings) -> list[Choice]:
    """What ``build_channels`` would pick, described (for ``crisis doctor`` and the worker's log)."""
    if twilio_configured(settings):
        sender = (
            f"messaging service {settings.twilio_messaging_service_sid.strip()}"
            if _set(settings.twilio_messaging_service_sid)
            else f"from {settings.twilio_from_number.strip()}"
        )
        sms = Choice(ChannelKind.SMS, "twilio", f"{sender}, status callbacks to {twilio_status_callback(settings)}")
    else:
        sms = Choice(ChannelKind.SMS, "outbox", "stored and shown at /outbox (Twilio is not configured)")
    if sendgrid_configured(settings):
        email = Choice(ChannelKind.EMAIL, "sendgrid", f"from {settings.sendgrid_from_email.strip()}")
    else:
        email = Choice(ChannelKind.EMAIL, "outbox", "stored and shown at /outbox (SendGrid is not configured)")
    public = Choice(ChannelKind.PUBLIC, "outbox", "stored and shown at /outbox")
    return [sms, email, public]


def build_channels(settings, sessions: async_sessionmaker, timeout: float = 10.0) -> dict[ChannelKind, Channel]:
    """The channel of each kind; ``timeout`` bounds each provider request (seconds)."""
    outbox = OutboxChannel(sessions)
    channels: dict[ChannelKind, Channel] = {kind: outbox for kind in ChannelKind}
    if twilio_configured(settings):
        channels[ChannelKind.SMS] = TwilioSMSChannel(
            settings.twilio_account_sid.strip(),
            settings.twilio_auth_token.get_secret_value().strip(),
            from_number=(settings.twilio_from_number or "").strip() or None,
            messaging_service_sid=(settings.twilio_messaging_service_sid or "").strip() or None,
            status_callback=twilio_status_callback(settings),
            api_url=(settings.twilio_api_url or "").strip() or None,
            timeout=timeout,
        )
    if sendgrid_configured(settings):
        channels[ChannelKind.EMAIL] = SendGridEmailChannel(
            settings.sendgrid_api_key.get_secret_value().strip(),
            settings.sendgrid_from_email.strip(),
            api_url=(settings.sendgrid_api_url or "").strip() or None,
            timeout=timeout,
        )
    for choice in choices(settings):
        log.info("channel %s: %s (%s)", choice.kind.value, choice.provider, choice.detail)
    return channels
