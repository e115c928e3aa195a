"""SMS through Twilio's Messages API (the official ``twilio`` SDK), and the check of Twilio's
webhook signatures."""

import hmac
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlparse, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator, add_port, remove_port
from twilio.rest import Client

from channels.base import (
    DEFAULT_CONCURRENCY,
    Delivery,
    OutgoingMessage,
    PermanentDeliveryError,
    SdkThreads,
    TransientDeliveryError,
    classify_status,
    redact,
)

if TYPE_CHECKING:  # FastAPI only where the API verifies a webhook: the worker sends SMS without it
    from fastapi import Request

log = logging.getLogger("crisisflow.twilio")

TWILIO_API_URL = "https://api.twilio.com"
SIGNATURE_HEADER = "X-Twilio-Signature"
MAX_BODY = 1600  # characters Twilio accepts in one message body
DEFAULT_TIMEOUT = 10.0  # seconds per request; the notify activity has 30 s for every channel


class _RebasedHttpClient(TwilioHttpClient):
    """The SDK's own HTTP client, sending every request for ``*.twilio.com`` to another base URL
    (a regional gateway, a mock server, the test fakes): scheme and host are replaced and the
    base URL's path, if any, is put in front of the API path."""

    def __init__(self, base_url: str, **kwargs):
        super().__init__(**kwargs)
        self._base = urlsplit(base_url.rstrip("/"))

    def request(self, method: str, url: str, *args, **kwargs):
        parts = urlsplit(url)
        if parts.hostname and (parts.hostname == "twilio.com" or parts.hostname.endswith(".twilio.com")):
            url = urlunsplit((self._base.scheme, self._base.netloc, self._base.path + parts.path, parts.query, parts.fragment))
        return super().request(method, url, *args, **kwargs)


def twilio_client(account_sid: str, auth_token: str, *, api_url: str | None, timeout: float, concurrency: int) -> Client:
    """The SDK's client, sending to ``api_url`` when set, with a connection per thread."""
    http_client = _RebasedHttpClient(api_url, timeout=timeout) if api_url else TwilioHttpClient(timeout=timeout)
    # The SDK's session keeps cores + 4 connections for https only: one per thread instead, on
    # either scheme (a gateway or mock server may be plain http), so none is opened per call.
    adapter = HTTPAdapter(pool_maxsize=concurrency)
    for scheme in ("https://", "http://"):
        http_client.session.mount(scheme, adapter)
    return Client(account_sid, auth_token, http_client=http_client)


def refusal(error: Exception) -> Exception:
    """The delivery error a Twilio SDK exception (or a transport failure) stands for."""
    if isinstance(error, TwilioRestException):
        return classify_status(error.status, redact(f"Twilio {error.code or error.status}: {error.msg}"))
    if isinstance(error, TwilioServiceException):
        return classify_status(error.status, redact(f"Twilio {error.code}: {error.title} {error.detail or ''}".strip()))
    if isinstance(error, requests.Timeout):
        return TransientDeliveryError("Twilio did not answer in time")
    return TransientDeliveryError(redact(f"cannot reach Twilio: {type(error).__name__}"))


def sms_text(message: OutgoingMessage) -> str:
    """The body as composed by the activity (links the person needs are in its text), shortened
    to what Twilio takes in one request."""
    return message.body if len(message.body) <= MAX_BODY else message.body[: MAX_BODY - 1] + "…"


class TwilioSMSChannel:
    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        status_callback: str | None = None,
        api_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        concurrency: int = DEFAULT_CONCURRENCY,
    ):
        if not (from_number or messaging_service_sid):
            raise ValueError("Twilio needs a sender: TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
        self._threads = SdkThreads("twilio", concurrency)
        self._client = twilio_client(account_sid, auth_token, api_url=api_url, timeout=timeout, concurrency=concurrency)
        self._from_number = from_number
        self._messaging_service_sid = messaging_service_sid
        self._status_callback = status_callback

    def _create(self, message: OutgoingMessage):
        sender = (
            {"messaging_service_sid": self._messaging_service_sid}
            if self._messaging_service_sid
            else {"from_": self._from_number}
        )
        callback = {"status_callback": self._status_callback} if self._status_callback else {}
        return self._client.messages.create(to=message.address, body=sms_text(message), **sender, **callback)

    async def send(self, message: OutgoingMessage) -> Delivery:
        if not message.address:
            raise PermanentDeliveryError("no phone number to send the SMS to")
        try:
            # The SDK is synchronous (requests): it runs in a thread so the event loop never blocks.
            created = await self._threads.run(self._create, message)
        except (TwilioRestException, TwilioServiceException, requests.RequestException) as error:
            raise refusal(error) from None
        log.info("SMS %s accepted by Twilio as %s", message.ledger_key, created.sid)
        return Delivery(channel=self.name, accepted=True, provider_id=created.sid)


# ---- webhooks --------------------------------------------------------------------------------


class _Form:
    """Form fields as Twilio sent them, repeated names included (RequestValidator asks ``getlist``)."""

    def __init__(self, pairs: Iterable[tuple[str, str]]):
        self._pairs = list(pairs)

    def __iter__(self):
        return (name for name, _ in self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)

    def getlist(self, name: str) -> list[str]:
        return [value for key, value in self._pairs if key == name]

    def as_dict(self) -> dict[str, str]:
        return dict(self._pairs)


def webhook_url(public_url: str, request: "Request") -> str:
    """The URL Twilio called, as it saw it: the public base URL, the path and the query."""
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{public_url.rstrip('/')}{request.url.path}{query}"


def signature_matches(token: str, url: str, form, signature: str) -> bool:
    """Twilio's X-Twilio-Signature check, compared with ``hmac.compare_digest``. Twilio signs the
    URL with or without its port, so both are computed (always both: the timing says nothing)."""
    validator, parsed, given = RequestValidator(token), urlparse(url), signature.strip().encode("utf-8", "replace")
    expected = [validator.compute_signature(candidate, form).encode() for candidate in (remove_port(parsed), add_port(parsed))]
    return any([hmac.compare_digest(candidate, given) for candidate in expected])


async def verify_twilio_request(settings, request: "Request") -> dict[str, str]:
    """The form fields of a request Twilio signed, or HTTPException: 403 when the signature is
    missing or wrong (or no TWILIO_AUTH_TOKEN is set, so nothing can be verified), 400 when the
    body is not a form. The signature covers ``CRISIS_PUBLIC_URL`` + path + query and every field,
    so the public URL must be the one configured in Twilio."""
    from fastapi import HTTPException

    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ""
    if not token:
        log.warning("refused %s: TWILIO_AUTH_TOKEN is not set, so no Twilio signature can be checked", request.url.path)
        raise HTTPException(403, "Twilio webhooks are not configured (TWILIO_AUTH_TOKEN is not set)")
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature:
        log.warning("refused %s: no %s header", request.url.path, SIGNATURE_HEADER)
        raise HTTPException(403, f"missing {SIGNATURE_HEADER}")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        log.warning("refused %s: content type %r is not a form", request.url.path, content_type)
        raise HTTPException(400, "expected an application/x-www-form-urlencoded body")
    try:
        form = _Form(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True, strict_parsing=False))
    except (UnicodeDecodeError, ValueError):
        log.warning("refused %s: the body is not a readable form", request.url.path)
        raise HTTPException(400, "the body is not a readable form") from None
    url = webhook_url(settings.public_url, request)
    if not signature_matches(token, url, form, signature):
        log.warning(
            "refused %s: the Twilio signature does not match (is CRISIS_PUBLIC_URL %s the URL set in Twilio?)",
            request.url.path,
            settings.public_url,
        )
        raise HTTPException(403, "the Twilio signature does not match")
    return form.as_dict()
