"""Slack, with the official ``slack_sdk``: the Web API calls crisisflow makes, the messages it
posts, and the check of the requests Slack sends back (buttons, modals, ``/crisis``).

Every Web API call is form-encoded (``application/x-www-form-urlencoded``, structured arguments
such as ``blocks`` as JSON strings), which Slack accepts for every method and which is how its
Web API description declares them; ``views.open`` is declared as a GET with query arguments.

The channel's ``send`` handles one message by its ``kind``, each a single Web API step so that a
retried send never repeats a step that worked (the ledger answers it):

- ``chat.open``: ``conversations.create`` (the incident's channel; its id is the provider id)
- ``chat.summary``: the summary posted in the channel and pinned (``chat.postMessage``, ``pins.add``)
- ``chat.invite``: ``conversations.invite`` of one person (already in the channel counts as done)
- ``chat.event``: one line of the incident's timeline (``chat.postMessage``)
- ``chat.archive``: ``conversations.archive`` when the incident is closed
- ``page`` / ``approval``: a direct message to the person with buttons (Acknowledge; Approve and
  Request changes) whose value is the message's single-use action token.
"""

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections import OrderedDict

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from channels.base import Delivery, OutgoingMessage, PermanentDeliveryError, TransientDeliveryError, classify_status

log = logging.getLogger("crisisflow.slack")

SLACK_API_URL = "https://slack.com/api/"
INTERACTIVITY_PATH = "/webhooks/slack/interactivity"
COMMANDS_PATH = "/webhooks/slack/commands"
ACKNOWLEDGE, APPROVE, REQUEST_CHANGES = "acknowledge", "approve", "request_changes"
CHANGES_MODAL, DECLARE_MODAL, DECLARE_SHORTCUT = "request_changes", "declare_incident", "declare_incident"
MAX_AGE = 300  # seconds: Slack's requests older (or newer) than this are refused, as Slack advises
TRANSIENT_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
DONE_ALREADY = {"already_in_channel": "chat.invite", "already_archived": "chat.archive"}


def channel_name(incident_id: str, scenario: str, drill: bool) -> str:
    """A Slack channel name (lower case, digits, hyphens, at most 80) from the incident id and scenario."""
    name = f"{'drill-' if drill else ''}{incident_id}-{scenario}".lower().replace("_", "-")
    return "".join(c for c in name if c.isalnum() or c == "-")[:80]


def _form(arguments: dict) -> dict:
    return {
        name: json.dumps(value) if isinstance(value, (list, dict)) else value
        for name, value in arguments.items()
        if value is not None
    }


class SlackApi:
    """The Web API through ``AsyncWebClient``, its errors turned into delivery errors."""

    def __init__(self, token: str, api_url: str = SLACK_API_URL, timeout: float = 10.0, headers: dict[str, str] | None = None):
        base = api_url if api_url.endswith("/") else api_url + "/"
        self._client = AsyncWebClient(token=token, base_url=base, timeout=max(int(timeout), 1), headers=headers or {})

    async def call(self, method: str, *, get: bool = False, **arguments) -> dict:
        """One Web API method; its answer's fields. ``PermanentDeliveryError`` when Slack refused it
        (``ok: false`` with an error such as ``channel_not_found``), ``TransientDeliveryError`` when
        it is worth trying again (rate limited, Slack's own errors, no answer)."""
        try:
            if get:
                response = await self._client.api_call(method, http_verb="GET", params=_form(arguments))
            else:
                response = await self._client.api_call(method, data=_form(arguments))
        except SlackApiError as error:
            code = (error.response.get("error") if isinstance(error.response.data, dict) else None) or "error"
            status = error.response.status_code
            if code in TRANSIENT_ERRORS:
                raise TransientDeliveryError(f"Slack {method}: {code}") from None
            raise classify_status(status if status >= 400 else 400, f"Slack {method}: {code}") from None
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise TransientDeliveryError(f"cannot reach Slack ({method}): {type(error).__name__}") from None
        return response.data if isinstance(response.data, dict) else {}


def _button(label: str, action_id: str, value: str, style: str | None = None) -> dict:
    button = {"type": "button", "text": {"type": "plain_text", "text": label}, "action_id": action_id, "value": value}
    return button | ({"style": style} if style else {})


def ask_blocks(message: OutgoingMessage) -> list[dict]:
    """A page or an approval request: its text, and buttons carrying the single-use token."""
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{message.subject}*\n{message.body}"[:2900]}}]
    if message.action and message.kind == "page":
        buttons = [_button("Acknowledge", ACKNOWLEDGE, message.action, "primary")]
    elif message.action:
        buttons = [
            _button("Approve", APPROVE, message.action, "primary"),
            _button("Request changes", REQUEST_CHANGES, message.action, "danger"),
        ]
    else:
        buttons = []
    incident = next((link for link in message.links if "/incidents/" in link.url), None)
    if incident:
        buttons.append(
            {
                "type": "button",
                "text": {"type": "plain_text", "text": incident.label},
                "url": incident.url,
                "action_id": "open_incident",
            }
        )
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    return blocks


def changes_modal(metadata: str, heading: str) -> dict:
    """The modal asking what should change; the token (and the message to update) ride in ``private_metadata``."""
    return {
        "type": "modal",
        "callback_id": CHANGES_MODAL,
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": "Request changes"},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": heading[:2900]}},
            {
                "type": "input",
                "block_id": "comment",
                "label": {"type": "plain_text", "text": "What should change?"},
                "element": {"type": "plain_text_input", "action_id": "comment", "multiline": True, "max_length": 2000},
            },
        ],
    }


def declare_modal(playbooks: list[tuple[str, str]]) -> dict:
    """The shortcut's form: a playbook and a title."""
    options = [{"text": {"type": "plain_text", "text": name[:75]}, "value": playbook_id} for playbook_id, name in playbooks][:100]
    return {
        "type": "modal",
        "callback_id": DECLARE_MODAL,
        "title": {"type": "plain_text", "text": "Declare an incident"},
        "submit": {"type": "plain_text", "text": "Declare"},
        "blocks": [
            {
                "type": "input",
                "block_id": "playbook",
                "label": {"type": "plain_text", "text": "Playbook"},
                "element": {"type": "static_select", "action_id": "playbook", "options": options},
            },
            {
                "type": "input",
                "block_id": "title",
                "label": {"type": "plain_text", "text": "Title (internal)"},
                "element": {"type": "plain_text_input", "action_id": "title", "max_length": 200},
            },
        ],
    }


def _channel_id(channel) -> str | None:
    """The id of the conversation in an answer: an object in Slack's answers (a list of one in its
    Web API description)."""
    if isinstance(channel, list):
        channel = channel[0] if channel else None
    return channel.get("id") if isinstance(channel, dict) else None


class SlackChannel:
    """Sends each kind of Slack message (see the module's docstring); ``address`` is the Slack
    channel id, or for a page or approval the person's Slack user id (a direct message)."""

    name = "slack"

    def __init__(self, api: SlackApi):
        self.api = api

    async def send(self, message: OutgoingMessage) -> Delivery:
        kind = message.kind
        try:
            if kind == "chat.open":
                created = await self.api.call("conversations.create", name=message.subject)
                return self._done(message, _channel_id(created.get("channel")))
            if not message.address:
                raise PermanentDeliveryError(
                    f"no Slack {'user' if kind in ('page', 'approval') else 'channel'} to send {kind} to"
                )
            if kind == "chat.summary":
                posted = await self.api.call(
                    "chat.postMessage", channel=message.address, text=message.body, blocks=ask_blocks(message)
                )
                await self.api.call("pins.add", channel=message.address, timestamp=posted.get("ts"))
                return self._done(message, f"{message.address}/{posted.get('ts')}")
            if kind == "chat.invite":
                await self.api.call("conversations.invite", channel=message.address, users=message.body)
                return self._done(message, message.address)
            if kind == "chat.archive":
                await self.api.call("conversations.archive", channel=message.address)
                return self._done(message, message.address)
            text = f"{message.subject}: {message.body}" if kind in ("page", "approval") else message.body
            posted = await self.api.call(
                "chat.postMessage", channel=message.address, text=text[:3000], blocks=ask_blocks(message)
            )
            return self._done(message, f"{posted.get('channel') or message.address}/{posted.get('ts')}")
        except PermanentDeliveryError as error:
            if DONE_ALREADY.get(error.reason.rsplit(": ", 1)[-1]) == kind:
                return self._done(message, message.address)
            raise

    def _done(self, message: OutgoingMessage, provider_id: str | None) -> Delivery:
        log.info("Slack %s %s done (%s)", message.kind, message.ledger_key, provider_id)
        return Delivery(channel=self.name, accepted=True, provider_id=provider_id)


# ---- requests from Slack ---------------------------------------------------------------------


class SlackRequestRefused(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    """``v0=`` + HMAC-SHA256 of ``v0:{timestamp}:{body}``, as Slack signs its requests."""
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return f"v0={digest}"


class SlackVerifier:
    """Slack's request signing: the signature must match, the timestamp be within five minutes,
    and the same signed request is taken once (a replay within the window is refused). The
    signatures seen are remembered in this process for the window's length."""

    def __init__(self, secret: str, clock=time.time, max_age: int = MAX_AGE):
        self._secret = secret
        self._clock = clock
        self._max_age = max_age
        self._seen: OrderedDict[str, float] = OrderedDict()

    def verify(self, headers, body: bytes) -> None:
        timestamp, signature = headers.get("x-slack-request-timestamp", ""), headers.get("x-slack-signature", "")
        if not timestamp or not signature:
            raise SlackRequestRefused(403, "missing X-Slack-Signature or X-Slack-Request-Timestamp")
        try:
            sent_at = int(timestamp)
        except ValueError:
            raise SlackRequestRefused(403, "X-Slack-Request-Timestamp is not a number") from None
        now = self._clock()
        if abs(now - sent_at) > self._max_age:
            raise SlackRequestRefused(403, "the request is older than five minutes (or from the future)")
        if not hmac.compare_digest(slack_signature(self._secret, timestamp, body), signature):
            raise SlackRequestRefused(403, "the Slack signature does not match")
        while self._seen and next(iter(self._seen.values())) < now - self._max_age:
            self._seen.popitem(last=False)
        if signature in self._seen:
            raise SlackRequestRefused(409, "this request was already received (a replay)")
        self._seen[signature] = now
