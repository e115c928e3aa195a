"""Which channel carries each kind of message, from the settings.

SMS goes through Twilio once its account, token and a sender are set, and phone calls once its
account, token and a caller id (TWILIO_FROM_NUMBER) are set; email through SendGrid once its key
and sender are set; anything not fully configured (and the public channel, for now) goes
to the outbox, the default and the only channel used when no credentials are set.

Publishing targets (``publishing_targets``, at the end) name where a published statement goes: X,
Mastodon, Bluesky and Statuspage once their settings are set, the signed webhooks of
CRISIS_PUBLISH_WEBHOOKS, the customer email list and the outbox. A playbook that does not name its
targets publishes to every social network and status page that is set up, and to the outbox.
"""

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import async_sessionmaker

from channels.base import Channel, ChannelKind, ChatKind, Delivery, OutgoingMessage
from channels.outbox import OutboxChannel
from channels.social import BLUESKY_TARGET, MASTODON_TARGET, STATUSPAGE_TARGET, X_TARGET
from channels.targets import CUSTOMER_EMAIL_TARGET, OUTBOX_TARGET
from channels.twilio_paths import CALL_STATUS_PATH, STATUS_CALLBACK_PATH

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


def twilio_calls_configured(settings) -> bool:
    """Calls need a caller id: a messaging service cannot place one."""
    return _set(settings.twilio_account_sid) and _set(settings.twilio_auth_token) and _set(settings.twilio_from_number)


def sendgrid_configured(settings) -> bool:
    return _set(settings.sendgrid_api_key) and _set(settings.sendgrid_from_email)


def twilio_status_callback(settings) -> str:
    return f"{settings.public_url}{STATUS_CALLBACK_PATH}"


@dataclass(frozen=True)
class Choice:
    kind: ChannelKind
    provider: str  # outbox, twilio, twilio_call or sendgrid
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
    if twilio_calls_configured(settings):
        call = Choice(
            ChannelKind.CALL,
            "twilio_call",
            f"from {settings.twilio_from_number.strip()}, status callbacks to {settings.public_url}{CALL_STATUS_PATH}",
        )
    else:
        call = Choice(
            ChannelKind.CALL,
            "outbox",
            "stored and shown at /outbox (Twilio calls need TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER)",
        )
    public = Choice(ChannelKind.PUBLIC, "outbox", "stored and shown at /outbox")
    return [sms, email, call, public]


def build_channels(settings, sessions: async_sessionmaker, timeout: float = 10.0) -> dict[ChannelKind, Channel]:
    """The channel of each kind; ``timeout`` bounds each provider request (seconds). Each provider
    may have as many calls in flight as the worker runs activities at once. A provider's SDK is
    imported only once it is configured: an outbox-only worker starts without them (memory)."""
    concurrency = settings.worker_max_concurrent_activities
    outbox = OutboxChannel(sessions)
    channels: dict[ChannelKind, Channel] = {kind: outbox for kind in ChannelKind}
    if twilio_configured(settings):
        from channels.twilio_sms import TwilioSMSChannel

        channels[ChannelKind.SMS] = TwilioSMSChannel(
            settings.twilio_account_sid.strip(),
            settings.twilio_auth_token.get_secret_value().strip(),
            from_number=(settings.twilio_from_number or "").strip() or None,
            messaging_service_sid=(settings.twilio_messaging_service_sid or "").strip() or None,
            status_callback=twilio_status_callback(settings),
            api_url=(settings.twilio_api_url or "").strip() or None,
            timeout=timeout,
            concurrency=concurrency,
        )
    if twilio_calls_configured(settings):
        from channels.twilio_call import TwilioCallChannel

        channels[ChannelKind.CALL] = TwilioCallChannel(
            settings.twilio_account_sid.strip(),
            settings.twilio_auth_token.get_secret_value().strip(),
            from_number=settings.twilio_from_number.strip(),
            public_url=settings.public_url,
            api_url=(settings.twilio_api_url or "").strip() or None,
            timeout=timeout,
            concurrency=concurrency,
        )
    if sendgrid_configured(settings):
        from channels.sendgrid_email import SendGridEmailChannel

        channels[ChannelKind.EMAIL] = SendGridEmailChannel(
            settings.sendgrid_api_key.get_secret_value().strip(),
            settings.sendgrid_from_email.strip(),
            api_url=(settings.sendgrid_api_url or "").strip() or None,
            timeout=timeout,
            concurrency=concurrency,
        )
    for choice in choices(settings):
        log.info("channel %s: %s (%s)", choice.kind.value, choice.provider, choice.detail)
    return channels


# ---- the team's chat ---------------------------------------------------------------------------


def slack_configured(settings) -> bool:
    return _set(settings.slack_bot_token) and _set(settings.slack_signing_secret)


def teams_configured(settings) -> bool:
    return _set(settings.teams_webhook_url)


def chat_choices(settings) -> list[tuple[str, str]]:
    """Which chats the incidents reach, described (no secret), for ``crisis doctor`` and the worker's log."""
    slack = (
        f"a channel per incident, pages and approvals with buttons (API {settings.slack_api_url})"
        if slack_configured(settings)
        else "off (SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not both set)"
    )
    teams = "Adaptive Cards to the Workflows webhook" if teams_configured(settings) else "off (TEAMS_WEBHOOK_URL is not set)"
    return [("slack", slack), ("teams", teams)]


def build_chats(settings, timeout: float = 10.0) -> dict[ChatKind, Channel]:
    """The chat rooms the incidents are mirrored to: Slack and Teams, each once configured (and
    only then imported: the Slack SDK and aiohttp are megabytes a worker without Slack need not hold)."""
    chats: dict[ChatKind, Channel] = {}
    if slack_configured(settings):
        from channels.slack import SlackApi, SlackChannel

        chats[ChatKind.SLACK] = SlackChannel(
            SlackApi(settings.slack_bot_token.get_secret_value().strip(), settings.slack_api_url, timeout=timeout)
        )
    if teams_configured(settings):
        from channels.teams import TeamsChannel

        chats[ChatKind.TEAMS] = TeamsChannel(settings.teams_webhook_url.get_secret_value().strip(), timeout=timeout)
    for name, detail in chat_choices(settings):
        log.info("chat %s: %s", name, detail)
    return chats


# ---- publishing targets ------------------------------------------------------------------------
# Where an approved statement (or a "pause/resume scheduled posts" notice) can go, by name: each
# webhook of CRISIS_PUBLISH_WEBHOOKS, "customer_email" (the customer list, SendGrid when set up)
# and "outbox" (always there, the default). A playbook names targets; an unknown name is reported.


def webhook_target_problem(target) -> str | None:
    """Why a CRISIS_PUBLISH_WEBHOOKS entry cannot be used (no secret in the answer), or None."""
    from urllib.parse import urlsplit

    parts = urlsplit(target.url.strip())
    problems = []
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append("url is not an absolute http(s) URL")
    if not target.secret.get_secret_value().strip():
        problems.append("secret is empty")
    return "; ".join(problems) or None


def customer_list_address(settings) -> str | None:
    return (settings.customer_list_email or "").strip() or None


def _secret(value) -> str:
    return value.get_secret_value().strip() if value is not None else ""


def social_settings(settings) -> dict[str, str]:
    """Each built-in social network or status page whose settings are complete → where it posts (no secret)."""
    found = {}
    if _set(settings.x_access_token):
        found[X_TARGET] = f"posts as the token's account at {(settings.x_api_url or 'https://api.x.com').strip()}"
    if _set(settings.mastodon_api_base_url) and _set(settings.mastodon_access_token):
        found[MASTODON_TARGET] = f"posts as the token's account on {settings.mastodon_api_base_url.strip()}"
    if _set(settings.bluesky_handle) and _set(settings.bluesky_app_password):
        found[BLUESKY_TARGET] = (
            f"posts as {settings.bluesky_handle.strip()} on {(settings.bluesky_pds_url or 'https://bsky.social').strip()}"
        )
    if _set(settings.statuspage_api_key) and _set(settings.statuspage_page_id):
        found[STATUSPAGE_TARGET] = f"incidents on page {settings.statuspage_page_id.strip()}"
    return found


def default_publishing_targets(settings) -> list[str]:
    """Where a playbook that names no ``publish_to`` publishes: every social network and status page set up, and the outbox."""
    return [*social_settings(settings), OUTBOX_TARGET]


def social_channels(settings, timeout: float = 10.0) -> dict[str, Channel]:
    """The channel of each social network and status page whose settings are set. Each SDK is
    imported only when its network is set up: X's and Bluesky's alone are 1.7 s of CPU (their
    pydantic models), paid by every worker and API process that starts."""
    configured = social_settings(settings)
    concurrency = settings.worker_max_concurrent_activities
    found: dict[str, Channel] = {}
    if X_TARGET in configured:
        from channels.x import XChannel

        found[X_TARGET] = XChannel(
            _secret(settings.x_access_token), (settings.x_api_url or "").strip() or None, timeout=timeout, concurrency=concurrency
        )
    if MASTODON_TARGET in configured:
        from channels.mastodon import MastodonChannel

        found[MASTODON_TARGET] = MastodonChannel(
            settings.mastodon_api_base_url.strip(),
            _secret(settings.mastodon_access_token),
            limit=settings.mastodon_max_characters,
            timeout=timeout,
            concurrency=concurrency,
        )
    if BLUESKY_TARGET in configured:
        from channels.bluesky import BlueskyChannel

        found[BLUESKY_TARGET] = BlueskyChannel(
            (settings.bluesky_pds_url or "").strip() or None,
            settings.bluesky_handle.strip(),
            _secret(settings.bluesky_app_password),
            timeout=timeout,
        )
    if STATUSPAGE_TARGET in configured:
        from channels.statuspage import StatuspageChannel

        found[STATUSPAGE_TARGET] = StatuspageChannel(
            _secret(settings.statuspage_api_key),
            settings.statuspage_page_id.strip(),
            (settings.statuspage_api_url or "").strip() or None,
            timeout=timeout,
        )
    return found


def publishing_target_names(settings) -> list[str]:
    """The names a playbook may publish to: the social networks and status page set up, every
    usable webhook target, then customer_email and outbox."""
    webhooks = sorted(name for name, target in settings.publish_webhooks.items() if webhook_target_problem(target) is None)
    return [*social_settings(settings), *webhooks, CUSTOMER_EMAIL_TARGET, OUTBOX_TARGET]


def unknown_publishing_targets(settings, requested) -> list[str]:
    """Those of ``requested`` that are not configured (in the order asked), to report."""
    known = set(publishing_target_names(settings))
    return [name for name in requested if name not in known]


@dataclass(frozen=True)
class PublishChoice:
    target: str
    provider: str  # x, mastodon, bluesky, statuspage, webhook, sendgrid or outbox
    detail: str  # where it goes, no secret
    problem: str | None = None  # set: the target is left out


def publishing_choices(settings) -> list[PublishChoice]:
    """What ``publishing_targets`` would build, described (for ``crisis doctor`` and the worker's log)."""
    from urllib.parse import urlsplit

    found = [PublishChoice(name, name, detail) for name, detail in social_settings(settings).items()]
    for name in sorted(settings.publish_webhooks):
        target = settings.publish_webhooks[name]
        parts = urlsplit(target.url.strip())  # shown without user:password@ or a query (either may hold a token)
        shown = f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path}"
        found.append(PublishChoice(name, "webhook", f"signed POST to {shown}", webhook_target_problem(target)))
    address = customer_list_address(settings)
    if address and sendgrid_configured(settings):
        found.append(PublishChoice(CUSTOMER_EMAIL_TARGET, "sendgrid", f"email to {address}"))
    elif address:
        found.append(
            PublishChoice(CUSTOMER_EMAIL_TARGET, "outbox", f"stored at /outbox (SendGrid is not configured; list {address})")
        )
    else:
        found.append(PublishChoice(CUSTOMER_EMAIL_TARGET, "outbox", "stored at /outbox (CRISIS_CUSTOMER_LIST_EMAIL is not set)"))
    found.append(PublishChoice(OUTBOX_TARGET, "outbox", "stored and shown at /outbox"))
    return found


class ListRecipientChannel:
    """An email channel sending every message to one fixed address (the customer mailing list)."""

    def __init__(self, inner: Channel, address: str):
        self._inner = inner
        self._address = address
        self.name = inner.name

    async def send(self, message: OutgoingMessage) -> Delivery:
        return await self._inner.send(message.model_copy(update={"address": self._address}))


def publishing_targets(
    settings, sessions: async_sessionmaker, channels: dict[ChannelKind, Channel] | None = None, timeout: float = 10.0
) -> dict[str, Channel]:
    """The channel of each publishing target, by name (see ``publishing_target_names``).

    ``channels`` is ``build_channels``'s answer: its email channel (SendGrid when configured) carries
    customer_email and its public channel is the outbox. A webhook target with a malformed URL or
    an empty secret is left out (logged; ``crisis doctor`` says why), so asking for it later is an
    unknown target. ``timeout`` applies to webhook targets that do not set their own.
    """
    from channels.webhook import WebhookChannel

    channels = channels or build_channels(settings, sessions, timeout=timeout)
    outbox = channels.get(ChannelKind.PUBLIC) or OutboxChannel(sessions)
    targets: dict[str, Channel] = social_channels(settings, timeout=timeout)
    for name in sorted(settings.publish_webhooks):
        target = settings.publish_webhooks[name]
        if (problem := webhook_target_problem(target)) is not None:
            log.error("publishing target %s left out: %s", name, problem)
            continue
        own = target.timeout if "timeout" in target.model_fields_set else timeout
        targets[name] = WebhookChannel(name, target.url.strip(), target.secret.get_secret_value().strip(), timeout=own)
    address = customer_list_address(settings)
    if address and sendgrid_configured(settings):
        targets[CUSTOMER_EMAIL_TARGET] = ListRecipientChannel(channels[ChannelKind.EMAIL], address)
    else:
        targets[CUSTOMER_EMAIL_TARGET] = outbox
    targets[OUTBOX_TARGET] = outbox
    for choice in publishing_choices(settings):
        if choice.problem is None:
            log.info("publishing target %s: %s (%s)", choice.target, choice.provider, choice.detail)
    return targets
