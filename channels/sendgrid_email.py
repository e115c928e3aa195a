"""Email through SendGrid's v3 mail send (the official ``sendgrid`` SDK and its Mail helper)."""

import http.client
import logging
import urllib.error
from html import escape

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import CustomArg, From, Mail, To

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

log = logging.getLogger("crisisflow.sendgrid")

SENDGRID_API_URL = "https://api.sendgrid.com"
LEDGER_ARG = "crisis_ledger_key"  # custom_args key: comes back in every event of the Event Webhook
DEFAULT_TIMEOUT = 10.0


def plain_text(message: OutgoingMessage) -> str:
    links = "".join(f"\n{link.label}: {link.url}" for link in message.links)
    return f"{message.body}\n{links}" if links else message.body


def render_html(message: OutgoingMessage) -> str:
    """A plain HTML version of the body (escaped, paragraphs kept) with each link as a button."""
    paragraphs = "".join(
        f'<p style="margin:0 0 14px">{escape(part).replace(chr(10), "<br>")}</p>'
        for part in message.body.split("\n\n")
        if part.strip()
    )
    buttons = "".join(
        f'<a href="{escape(link.url, quote=True)}" style="display:inline-block;margin:0 8px 8px 0;padding:10px 18px;'
        f'background:#b42318;color:#ffffff;border-radius:6px;text-decoration:none;font-weight:600">{escape(link.label)}</a>'
        for link in message.links
    )
    drill = '<p style="margin:0 0 14px;font-weight:700">This is a drill.</p>' if message.drill else ""
    return (
        '<!doctype html><html><body style="margin:0;padding:24px;font-family:Arial,Helvetica,sans-serif;font-size:15px;'
        f'line-height:1.5;color:#1d2939"><h1 style="font-size:18px;margin:0 0 16px">{escape(message.subject)}</h1>'
        f'{drill}{paragraphs}<p style="margin:18px 0 0">{buttons}</p></body></html>'
    )


def error_reason(error: HTTPError) -> str:
    """SendGrid's own words from an error answer ({"errors": [{"message": ..., "field": ...}]})."""
    try:
        errors = error.to_dict.get("errors") or []
        said = "; ".join(
            f"{item['field']}: {item.get('message')}" if item.get("field") else str(item.get("message"))
            for item in errors
            if isinstance(item, dict)
        )
    except Exception:
        said = ""
    return redact(f"SendGrid {error.status_code}: {said or error.reason}")


class SendGridEmailChannel:
    name = "sendgrid"

    def __init__(
        self,
        api_key: str,
        from_email: str,
        *,
        api_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        concurrency: int = DEFAULT_CONCURRENCY,
    ):
        self._client = SendGridAPIClient(api_key=api_key, host=(api_url or SENDGRID_API_URL).rstrip("/"))
        self._threads = SdkThreads("sendgrid", concurrency)
        self._from = from_email
        self._timeout = timeout

    def mail(self, message: OutgoingMessage) -> Mail:
        mail = Mail(
            from_email=From(self._from),
            to_emails=To(message.address),
            subject=message.subject,
            plain_text_content=plain_text(message),
            html_content=message.html if message.html is not None else render_html(message),
        )
        # On the personalization, not the whole send: SendGrid's spec types a top-level custom_args
        # as a string; per personalization it is an object. Either way it comes back in every event.
        mail.custom_arg = CustomArg(LEDGER_ARG, message.ledger_key, p=0)
        return mail

    def _post(self, body: dict):
        return self._client.client.mail.send.post(request_body=body, timeout=self._timeout)

    async def send(self, message: OutgoingMessage) -> Delivery:
        if not message.address:
            raise PermanentDeliveryError("no email address to send to")
        body = self.mail(message).get()
        try:
            # The SDK is synchronous (urllib): it runs in a thread so the event loop never blocks.
            response = await self._threads.run(self._post, body)
        except HTTPError as error:
            raise classify_status(error.status_code, error_reason(error)) from None
        except TimeoutError:
            raise TransientDeliveryError("SendGrid did not answer in time") from None
        except urllib.error.URLError as error:
            timed_out = isinstance(error.reason, TimeoutError)
            raise TransientDeliveryError(
                "SendGrid did not answer in time" if timed_out else f"cannot reach SendGrid: {error.reason}"
            ) from None
        except (http.client.HTTPException, ConnectionError, OSError) as error:
            raise TransientDeliveryError(f"cannot reach SendGrid: {type(error).__name__}") from None
        provider_id = response.headers.get("X-Message-Id") if response.headers else None
        log.info("email %s accepted by SendGrid as %s", message.ledger_key, provider_id)
        return Delivery(channel=self.name, accepted=True, provider_id=provider_id)
