"""Signed outbound webhooks: a published statement (or a "pause/resume scheduled posts" notice)
POSTed as JSON to a social scheduling tool, a status page or any receiver of ours.

The request::

    POST <url>
    Content-Type: application/json
    User-Agent: crisisflow-webhook/1
    X-Crisis-Event: <kind>                 statement.holding, statement.update, social.pause …
    X-Crisis-Delivery: <ledger key>        the same on every retry of one delivery: receivers dedupe on it
    X-Crisis-Signature: sha256=<hex>       HMAC-SHA256 of the exact body bytes with the target's secret

    {"event": "<kind>",                    = X-Crisis-Event
     "incident_id": "<incident id>",
     "ledger_key": "<ledger key>",         = X-Crisis-Delivery
     "subject": "<title>",
     "text": "<the statement's text>",
     "links": [{"label": "...", "url": "..."}],
     "drill": false,                       true for an exercise: receivers must not publish it
     "sent_at": "2026-11-25T17:45:00.123456+00:00"}   this attempt (UTC, ISO 8601)

The body is UTF-8 JSON (non-ASCII characters as they are). A receiver verifies the signature over
the raw body *before* parsing it (:func:`verify`), then deduplicates on ``X-Crisis-Delivery``.

Answers: 2xx accepted (the provider id is the answer's ``X-Request-Id``, else the ledger key);
408, 425, 429, 5xx, connection errors and timeouts are transient (the activity's retry policy
gives the backoff; the ledger records every attempt); any other answer (4xx, 3xx: redirects are not
followed) is permanent.
"""

import hashlib
import hmac
import json
import logging
from datetime import datetime, timezone

import httpx

from channels.base import Delivery, OutgoingMessage, PermanentDeliveryError, TransientDeliveryError, classify_status, redact

log = logging.getLogger("crisisflow.webhook")

SIGNATURE_HEADER = "X-Crisis-Signature"
DELIVERY_HEADER = "X-Crisis-Delivery"
EVENT_HEADER = "X-Crisis-Event"
REQUEST_ID_HEADER = "X-Request-Id"
SIGNATURE_PREFIX = "sha256="
USER_AGENT = "crisisflow-webhook/1"
DEFAULT_TIMEOUT = 10.0
PROVIDER_ID_MAX = 100  # the ledger's provider_id column


def sign(body: bytes, secret: str) -> str:
    """The ``X-Crisis-Signature`` value of ``body``: ``sha256=`` and the hex HMAC-SHA256 with ``secret``."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, header: str | None) -> bool:
    """Whether ``header`` (an ``X-Crisis-Signature`` value) signs exactly ``body`` with ``secret``.
    Constant-time; False for a missing or malformed header or an empty secret."""
    if not header or not secret or not isinstance(body, (bytes, bytearray)):
        return False
    return hmac.compare_digest(sign(bytes(body), secret).encode("ascii"), header.strip().encode("utf-8", "replace"))


def payload(message: OutgoingMessage, sent_at: datetime | None = None) -> dict:
    """The JSON document POSTed for ``message`` (see the module's docstring)."""
    return {
        "event": message.kind,
        "incident_id": message.incident_id,
        "ledger_key": message.ledger_key,
        "subject": message.subject,
        "text": message.body,
        "links": [link.model_dump() for link in message.links],
        "drill": message.drill,
        "sent_at": (sent_at or datetime.now(timezone.utc)).isoformat(),
    }


def encode(document: dict) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class WebhookChannel:
    """One named publishing target (``status_page``, ``social_scheduler``…): each message is one
    signed POST to ``url``. ``name`` is the ledger's provider of its deliveries (20 characters at most)."""

    def __init__(
        self,
        name: str,
        url: str,
        secret: str,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        if not secret:
            raise ValueError(f"webhook target {name!r} has no secret")
        self.name = name
        self.url = url
        self._secret = secret
        self._timeout = timeout
        self._transport = transport  # tests only

    def __repr__(self) -> str:  # never the secret
        return f"WebhookChannel(name={self.name!r}, url={self.url!r})"

    def request(self, message: OutgoingMessage) -> tuple[bytes, dict[str, str]]:
        """The body and the headers of the POST for ``message``."""
        body = encode(payload(message))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            EVENT_HEADER: message.kind,
            DELIVERY_HEADER: message.ledger_key,
            SIGNATURE_HEADER: sign(body, self._secret),
        }
        return body, headers

    async def send(self, message: OutgoingMessage) -> Delivery:
        body, headers = self.request(message)
        try:
            async with httpx.AsyncClient(timeout=self._timeout, follow_redirects=False, transport=self._transport) as client:
                response = await client.post(self.url, content=body, headers=headers)
        except httpx.TimeoutException:
            raise TransientDeliveryError(f"webhook {self.name} did not answer within {self._timeout:g} s") from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as error:
            raise PermanentDeliveryError(f"webhook {self.name}: bad URL ({error})") from None
        except httpx.TransportError as error:
            raise TransientDeliveryError(f"cannot reach webhook {self.name}: {type(error).__name__}") from None
        if 200 <= response.status_code < 300:
            provider_id = (response.headers.get(REQUEST_ID_HEADER) or message.ledger_key)[:PROVIDER_ID_MAX]
            log.info("%s %s accepted by webhook %s (%d)", message.kind, message.ledger_key, self.name, response.status_code)
            return Delivery(channel=self.name, accepted=True, provider_id=provider_id)
        said = " ".join(response.text.split())[:200]
        reason = redact(f"webhook {self.name} answered {response.status_code}" + (f": {said}" if said else ""))
        raise classify_status(response.status_code, reason)
