"""Loopback fakes of Twilio's and SendGrid's HTTP APIs, for the official SDKs to talk to.

Each fake is a small Starlette app served by uvicorn on 127.0.0.1 in a background thread. It
speaks just enough of the provider's API (Twilio: ``POST /2010-04-01/Accounts/{sid}/Messages.json``
and ``Calls.json``, with the voice webhooks a call makes: answered, key pressed, completed;
SendGrid: ``POST /v3/mail/send``), checks the credentials and the request's shape the way the
provider would, records every request, and can inject faults: N× 500 then success, a 400 with a
Twilio error code, a delay longer than the client's timeout.

In a test::

    with FakeTwilio(auth_token=TOKEN) as twilio:    # or the ``fake_twilio`` fixture
        twilio.fail(times=2, status=500)
        ...  # TWILIO_API_URL=twilio.url
        assert len(twilio.accepted) == 1

For a stack started as a subprocess, run them as a process of their own and drive them over HTTP::

    python -m tests.fakes.providers --twilio-port 4010 --sendgrid-port 4011 --auth-token <32 hex>

It prints ``TWILIO_API_URL=…`` and ``SENDGRID_API_URL=…`` lines once listening. Every fake also
answers ``GET /_fake/requests`` (what it received), ``POST /_fake/faults`` (a JSON list of
faults: ``{"status": 500, "times": 2}``, ``{"status": 400, "body": {...}}``, ``{"delay": 5}``),
``POST /_fake/reset``, and for delivery webhooks ``POST /_fake/callback`` (Twilio: ``{"sid":
"SM…", "status": "undelivered", "error_code": "30003"}``) or ``POST /_fake/event`` (SendGrid:
``{"ledger_key": "…", "event": "bounce"}``): the fake then calls crisisflow's webhook, signed as
the provider signs it. :class:`RemoteFake` wraps those calls.

Magic recipients, as with Twilio's test credentials: SMS to ``+15005550001`` → 400, error 21211
(invalid 'To'); to ``+15005550004`` → 21610 (unsubscribed); ``+15005550009`` → 21614 (not a
mobile). Email to any address ``@invalid.example`` → 400 "Does not contain a valid address.".
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import re
import secrets
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.ports import free_port

TWILIO_MAGIC = {
    "+15005550001": (21211, "The 'To' number +15005550001 is not a valid phone number."),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (21614, "'To' number is not a valid mobile number"),
}
INVALID_EMAIL_DOMAIN = "@invalid.example"


@dataclass
class Fault:
    """What the fake does instead of (or before) answering normally, for ``times`` requests."""

    status: int | None = None  # answer with this status (and ``body``) instead of accepting
    body: Any = None  # JSON body of that answer; a provider-like error body when None
    delay: float = 0.0  # wait this long first (a client with a shorter timeout gives up)
    times: int = 1
    headers: dict[str, str] | None = None  # headers of that answer (a 429's Retry-After…)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int = 0  # what the fake answered
    accepted: bool = False  # the provider took the message (2xx)
    provider_id: str | None = None
    at: float = field(default_factory=time.time)  # when the request arrived
    answered_at: float | None = None  # when the fake took the message (after any injected delay)

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["body"] = self.body.decode("utf-8", "replace")
        return data


class FakeProvider:
    """Common part: the server thread, the request log, faults and the control endpoints."""

    name = "provider"

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.host, self.port = host, port or free_port()
        self._lock = threading.Lock()
        self._requests: list[Recorded] = []
        self._faults: list[Fault] = []
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        routes = [
            Route("/_fake/requests", self._control_requests, methods=["GET"]),
            Route("/_fake/faults", self._control_faults, methods=["POST"]),
            Route("/_fake/reset", self._control_reset, methods=["POST"]),
            *self.routes(),
        ]
        self.app = Starlette(routes=routes)

    def routes(self) -> list[Route]:
        return []

    # ---- life ----

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10) -> FakeProvider:
        config = uvicorn.Config(
            self.app, host=self.host, port=self.port, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=f"fake-{self.name}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the fake {self.name} did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    # ---- what happened, what goes wrong ----

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    @property
    def accepted(self) -> list[Recorded]:
        return [request for request in self.requests if request.accepted]

    def inject(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def fail(self, times: int = 1, status: int = 500, body: Any = None) -> None:
        self.inject(Fault(status=status, body=body, times=times))

    def delay(self, seconds: float, times: int = 1, status: int | None = None) -> None:
        """Answer only after ``seconds`` (normally, so the provider did take the message, unless
        ``status`` says otherwise): a client with a shorter timeout gives up first."""
        self.inject(Fault(delay=seconds, status=status, times=times))

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._faults.clear()

    def clear_faults(self) -> None:
        """Answer normally from the next request on (an outage is over); the log is kept."""
        with self._lock:
            self._faults.clear()

    def _next_fault(self) -> Fault | None:
        with self._lock:
            if not self._faults:
                return None
            fault = self._faults[0]
            fault.times -= 1
            if fault.times <= 0:
                self._faults.pop(0)
            return fault

    async def _record(self, request: Request) -> tuple[Recorded, Fault | None]:
        recorded = Recorded(
            request.method, request.url.path, {k.lower(): v for k, v in request.headers.items()}, await request.body()
        )
        with self._lock:
            self._requests.append(recorded)
        fault = self._next_fault()
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        return recorded, fault

    def error_body(self, status: int) -> Any:
        return {"message": f"injected {status}", "status": status}

    @staticmethod
    def _accept(recorded: Recorded, status: int, provider_id: str, accepted: bool = True) -> None:
        recorded.status, recorded.accepted, recorded.provider_id = status, accepted, provider_id
        recorded.answered_at = time.time()

    def _faulted(self, recorded: Recorded, fault: Fault | None) -> Response | None:
        if fault is None or fault.status is None:
            return None
        recorded.status = fault.status
        return JSONResponse(
            fault.body if fault.body is not None else self.error_body(fault.status),
            status_code=fault.status,
            headers=fault.headers,
        )

    # ---- control endpoints (for a fake in another process) ----

    async def _control_requests(self, _request: Request) -> Response:
        return JSONResponse([request.as_dict() for request in self.requests])

    async def _control_faults(self, request: Request) -> Response:
        self.inject(*(Fault(**item) for item in await request.json()))
        return JSONResponse({"ok": True})

    async def _control_reset(self, _request: Request) -> Response:
        self.reset()
        return JSONResponse({"ok": True})


# ---- Twilio ----------------------------------------------------------------------------------


def twilio_error(status: int, code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}


class FakeTwilio(FakeProvider):
    """``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` and ``Calls.json`` with basic auth
    (account SID and auth token), as the ``twilio`` SDK sends them. A placed call goes on only when
    a test says so: ``answer`` asks the call's Url for TwiML (as Twilio does when someone, or a
    voicemail, picks up), ``press`` sends a key to the Gather's action, ``call_status`` calls the
    StatusCallback; each is signed with the auth token."""

    name = "twilio"

    def __init__(self, auth_token: str | None = None, account_sid: str | None = None, **kwargs):
        self.auth_token = auth_token
        self.account_sid = account_sid
        super().__init__(**kwargs)

    def routes(self) -> list[Route]:
        return [
            Route("/2010-04-01/Accounts/{sid}/Messages.json", self._create_message, methods=["POST"]),
            Route("/2010-04-01/Accounts/{sid}/Calls.json", self._create_call, methods=["POST"]),
            Route("/_fake/callback", self._control_callback, methods=["POST"]),
        ]

    def error_body(self, status: int) -> Any:
        return twilio_error(
            status, 20429 if status == 429 else 20500, "Too Many Requests" if status == 429 else "Internal Server Error"
        )

    def _authorized(self, request: Request, sid: str) -> bool:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return (
            user == sid
            and (self.account_sid is None or user == self.account_sid)
            and (self.auth_token is None or password == self.auth_token)
        )

    async def _admitted(self, request: Request) -> tuple[Recorded, Callable[[int, int, str], Response], Response | None]:
        """The request recorded, a way to refuse it as Twilio does, and Twilio's answer before it
        reads the form (a fault the test set, wrong credentials, a body that is not a form), if any."""
        recorded, fault = await self._record(request)

        def refuse(status: int, code: int, message: str) -> Response:
            recorded.status = status
            return JSONResponse(twilio_error(status, code, message), status_code=status)

        if (faulted := self._faulted(recorded, fault)) is not None:
            return recorded, refuse, faulted
        if not self._authorized(request, request.path_params["sid"]):
            return recorded, refuse, refuse(401, 20003, "Authenticate")
        if request.headers.get("content-type", "").split(";")[0] != "application/x-www-form-urlencoded":
            return recorded, refuse, refuse(400, 20001, "Content-Type must be application/x-www-form-urlencoded")
        return recorded, refuse, None

    @staticmethod
    def _unreachable(to: str, refuse: Callable[[int, int, str], Response]) -> Response | None:
        """Twilio's refusal of a number: its magic test numbers, or one not in E.164."""
        if to in TWILIO_MAGIC:
            code, message = TWILIO_MAGIC[to]
            return refuse(400, code, message)
        if not re.fullmatch(r"\+[1-9]\d{1,14}", to):
            return refuse(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        return None

    async def _create_message(self, request: Request) -> Response:
        recorded, refuse, refused = await self._admitted(request)
        if refused is not None:
            return refused
        sid, form = request.path_params["sid"], recorded.form
        to = form.get("To", "")
        if not to:
            return refuse(400, 21604, "A 'To' phone number is required.")
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return refuse(400, 21603, "A 'From' phone number is required.")
        if not (form.get("Body") or form.get("MediaUrl") or form.get("ContentSid")):
            return refuse(400, 21602, "Message body is required.")
        if len(form.get("Body", "")) > 1600:
            return refuse(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        if (unreachable := self._unreachable(to, refuse)) is not None:
            return unreachable
        message_sid = "SM" + secrets.token_hex(16)
        self._accept(recorded, 201, message_sid)
        now = formatdate(usegmt=True)
        return JSONResponse(
            {
                "account_sid": sid,
                "api_version": "2010-04-01",
                "body": form.get("Body", ""),
                "date_created": now,
                "date_sent": None,
                "date_updated": now,
                "direction": "outbound-api",
                "error_code": None,
                "error_message": None,
                "from": form.get("From"),
                "messaging_service_sid": form.get("MessagingServiceSid"),
                "num_media": "0",
                "num_segments": "1",
                "price": None,
                "price_unit": "USD",
                "sid": message_sid,
                "status": "accepted" if form.get("MessagingServiceSid") else "queued",
                "subresource_uris": {"media": f"/2010-04-01/Accounts/{sid}/Messages/{message_sid}/Media.json"},
                "to": to,
                "uri": f"/2010-04-01/Accounts/{sid}/Messages/{message_sid}.json",
            },
            status_code=201,
        )

    async def _create_call(self, request: Request) -> Response:
        recorded, refuse, refused = await self._admitted(request)
        if refused is not None:
            return refused
        sid, form = request.path_params["sid"], recorded.form
        to, caller = form.get("To", ""), form.get("From", "")
        if not to:
            return refuse(400, 21201, "No 'To' number is specified")
        if not caller:
            return refuse(400, 21213, "No 'From' number is specified")
        if sum(bool(form.get(name)) for name in ("Url", "Twiml", "ApplicationSid")) != 1:
            return refuse(400, 21205, "Exactly one of Url, Twiml or ApplicationSid is required")
        for name in ("Url", "StatusCallback"):
            if form.get(name) and not re.match(r"https?://", form[name]):
                return refuse(400, 21205, f"{name} is not a valid URL")
        if form.get("MachineDetection") not in (None, "Enable", "DetectMessageEnd"):
            return refuse(400, 21626, "MachineDetection must be Enable or DetectMessageEnd")
        if (unreachable := self._unreachable(to, refuse)) is not None:
            return unreachable
        call_sid = "CA" + secrets.token_hex(16)
        self._accept(recorded, 201, call_sid)
        now = formatdate(usegmt=True)
        return JSONResponse(
            {
                "account_sid": sid,
                "answered_by": None,
                "api_version": "2010-04-01",
                "caller_name": None,
                "date_created": now,
                "date_updated": now,
                "direction": "outbound-api",
                "duration": None,
                "end_time": None,
                "forwarded_from": None,
                "from": caller,
                "from_formatted": caller,
                "group_sid": None,
                "parent_call_sid": None,
                "phone_number_sid": None,
                "price": None,
                "price_unit": "USD",
                "sid": call_sid,
                "start_time": None,
                "status": "queued",
                "subresource_uris": {},
                "to": to,
                "to_formatted": to,
                "uri": f"/2010-04-01/Accounts/{sid}/Calls/{call_sid}.json",
            },
            status_code=201,
        )

    def call(self, sid: str) -> Recorded:
        return next(request for request in self.requests if request.provider_id == sid and request.path.endswith("/Calls.json"))

    def _call_form(self, sid: str, status: str, **extra: str) -> dict[str, str]:
        placed = self.call(sid)
        form = {
            "AccountSid": placed.path.split("/")[3],
            "ApiVersion": "2010-04-01",
            "CallSid": sid,
            "CallStatus": status,
            "Direction": "outbound-api",
            "From": placed.form.get("From", ""),
            "To": placed.form.get("To", ""),
        }
        return form | {name: value for name, value in extra.items() if value is not None}

    def signed(self, url: str, form: dict[str, str]) -> tuple[str, dict[str, str], dict[str, str]]:
        from twilio.request_validator import RequestValidator

        return url, form, {"X-Twilio-Signature": RequestValidator(self.auth_token or "").compute_signature(url, form)}

    def answer_request(self, sid: str, answered_by: str = "human") -> tuple[str, dict[str, str], dict[str, str]]:
        """URL, form and headers of Twilio's request to the call's Url once it is answered (with
        synchronous answering-machine detection, ``AnsweredBy`` says who: human, machine_start…)."""
        url = self.call(sid).form["Url"]
        return self.signed(
            url,
            self._call_form(sid, "in-progress", AnsweredBy=answered_by if self.call(sid).form.get("MachineDetection") else None),
        )

    def press_request(
        self, sid: str, twiml: str, digits: str | None, answered_by: str = "human"
    ) -> tuple[str, dict[str, str], dict[str, str]]:
        """Twilio's request to the ``<Gather>`` action of ``twiml`` after the person pressed ``digits``."""
        import xml.etree.ElementTree as ElementTree

        gather = ElementTree.fromstring(twiml).find("Gather")
        if gather is None:
            raise ValueError(f"no <Gather> in {twiml}")
        extra = {"Digits": digits, "FinishedOnKey": "" if digits else None, "AnsweredBy": answered_by}
        return self.signed(gather.get("action"), self._call_form(sid, "in-progress", **extra))

    def call_status_request(
        self, sid: str, status: str = "completed", answered_by: str | None = "human", duration: str = "42"
    ) -> tuple[str, dict[str, str], dict[str, str]]:
        """Twilio's StatusCallback request once the call ended (busy, no-answer, failed, completed)."""
        url = self.call(sid).form["StatusCallback"]
        extra = {"AnsweredBy": answered_by, "CallDuration": duration if status == "completed" else "0"}
        return self.signed(url, self._call_form(sid, status, **extra))

    def message(self, sid: str) -> Recorded:
        return next(request for request in self.requests if request.provider_id == sid)

    def callback_request(
        self, sid: str, status: str, error_code: str | None = None
    ) -> tuple[str, dict[str, str], dict[str, str]]:
        """URL, form and headers of the status callback Twilio would send for message ``sid``."""
        from twilio.request_validator import RequestValidator

        sent = self.message(sid).form
        url = sent.get("StatusCallback")
        if not url:
            raise ValueError(f"message {sid} was sent without a StatusCallback")
        form = {
            "AccountSid": self.message(sid).path.split("/")[3],
            "ApiVersion": "2010-04-01",
            "From": sent.get("From") or "",
            "MessageSid": sid,
            "MessageStatus": status,
            "SmsSid": sid,
            "SmsStatus": status,
            "To": sent.get("To", ""),
        }
        if sent.get("MessagingServiceSid"):
            form["MessagingServiceSid"] = sent["MessagingServiceSid"]
        if error_code:
            form["ErrorCode"] = str(error_code)
        headers = {"X-Twilio-Signature": RequestValidator(self.auth_token or "").compute_signature(url, form)}
        return url, form, headers

    def callback(self, sid: str, status: str, error_code: str | None = None) -> httpx.Response:
        """Call the message's StatusCallback as Twilio does: form-encoded, signed with the auth token."""
        url, form, headers = self.callback_request(sid, status, error_code)
        return httpx.post(url, data=form, headers=headers, timeout=30)

    async def _control_callback(self, request: Request) -> Response:
        data = await request.json()
        url, form, headers = self.callback_request(data["sid"], data["status"], data.get("error_code"))
        async with httpx.AsyncClient(timeout=30) as client:
            answer = await client.post(url, data=form, headers=headers)
        return JSONResponse({"status": answer.status_code, "body": answer.text})


# ---- SendGrid --------------------------------------------------------------------------------


def sendgrid_error(message: str, field_name: str | None = None, help_url: str | None = None) -> dict[str, Any]:
    return {"errors": [{"message": message, "field": field_name, "help": help_url}]}


class EventSigner:
    """An ECDSA P-256 key pair signing Event Webhook requests the way SendGrid does: the signature
    covers timestamp + body, base64 DER in ``X-Twilio-Email-Event-Webhook-Signature``."""

    def __init__(self):
        from cryptography.hazmat.primitives.asymmetric import ec

        self._key = ec.generate_private_key(ec.SECP256R1())

    @property
    def public_key(self) -> str:
        """The verification key as SendGrid shows it (SENDGRID_WEBHOOK_PUBLIC_KEY): base64 DER."""
        from cryptography.hazmat.primitives import serialization

        der = self._key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return base64.b64encode(der).decode()

    def headers(self, body: bytes, timestamp: str | None = None) -> dict[str, str]:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        timestamp = timestamp or str(int(time.time()))
        signature = self._key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            "Content-Type": "application/json",
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        }


class FakeSendGrid(FakeProvider):
    """``POST /v3/mail/send`` with ``Authorization: Bearer <key>``, as the ``sendgrid`` SDK sends it."""

    name = "sendgrid"

    def __init__(self, api_key: str | None = None, events_url: str | None = None, signer: EventSigner | None = None, **kwargs):
        self.api_key = api_key
        self.events_url = events_url  # crisisflow's /webhooks/sendgrid/events, for event()
        self.signer = signer or EventSigner()
        super().__init__(**kwargs)

    def routes(self) -> list[Route]:
        return [
            Route("/v3/mail/send", self._send, methods=["POST"]),
            Route("/_fake/event", self._control_event, methods=["POST"]),
        ]

    def error_body(self, status: int) -> Any:
        return sendgrid_error("too many requests" if status == 429 else f"injected {status}")

    async def _send(self, request: Request) -> Response:
        recorded, fault = await self._record(request)
        if (faulted := self._faulted(recorded, fault)) is not None:
            return faulted

        def refuse(status: int, message: str, field_name: str | None = None) -> Response:
            recorded.status = status
            return JSONResponse(sendgrid_error(message, field_name), status_code=status)

        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer ") or (self.api_key is not None and header[7:] != self.api_key):
            return refuse(401, "The provided authorization grant is invalid, expired, or revoked")
        try:
            mail = recorded.json
        except ValueError:
            return refuse(400, "Bad Request", None)
        if not isinstance(mail, dict):
            return refuse(400, "Bad Request", None)
        personalizations = mail.get("personalizations")
        if not isinstance(personalizations, list) or not personalizations:
            return refuse(
                400, "The personalizations field is required and must have at least one personalization.", "personalizations"
            )
        for i, personalization in enumerate(personalizations):
            recipients = personalization.get("to") if isinstance(personalization, dict) else None
            if not isinstance(recipients, list) or not recipients:
                return refuse(
                    400,
                    "The to array is required for all personalization objects, and must have at least one email object with a"
                    " valid email address.",
                    f"personalizations.{i}.to",
                )
            for j, recipient in enumerate(recipients):
                address = recipient.get("email", "") if isinstance(recipient, dict) else ""
                if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", address) or address.endswith(INVALID_EMAIL_DOMAIN):
                    return refuse(400, "Does not contain a valid address.", f"personalizations.{i}.to.{j}.email")
        sender = mail.get("from")
        if not isinstance(sender, dict) or not sender.get("email"):
            return refuse(
                400,
                "The from object must be provided for every email send. It is an object that requires the email parameter, but"
                " may also contain a name parameter.",
                "from",
            )
        if not mail.get("subject") and not all(isinstance(p, dict) and p.get("subject") for p in personalizations):
            return refuse(
                400,
                "The subject is required. You can get around this requirement if you use a template with a subject defined or if"
                " every personalization has a subject defined.",
                "subject",
            )
        content = mail.get("content")
        if not mail.get("template_id") and (
            not isinstance(content, list)
            or not content
            or not all(isinstance(c, dict) and c.get("type") and c.get("value") for c in content)
        ):
            return refuse(
                400,
                "Unless a valid template_id is provided, the content parameter is required. There must be at least one defined"
                " content block.",
                "content",
            )
        if content and content[0].get("type") != "text/plain" and any(c.get("type") == "text/plain" for c in content):
            return refuse(
                400,
                "If present, text/plain content must be first, followed by text/html, followed by any other content.",
                "content",
            )
        message_id = secrets.token_urlsafe(16)[:22]
        self._accept(recorded, 202, message_id)
        return Response(status_code=202, headers={"X-Message-Id": message_id})

    @staticmethod
    def custom_args(mail: dict[str, Any]) -> dict[str, Any]:
        """The custom args an event carries: the send's, overridden by the first personalization's."""
        top = mail.get("custom_args") if isinstance(mail.get("custom_args"), dict) else {}
        return {**top, **(mail["personalizations"][0].get("custom_args") or {})}

    def sent_with(self, ledger_key: str) -> Recorded:
        return next(r for r in self.accepted if self.custom_args(r.json).get("crisis_ledger_key") == ledger_key)

    def event_batch(
        self, ledger_key: str, event: str = "bounce", reason: str | None = None, **extra: Any
    ) -> list[dict[str, Any]]:
        """The event SendGrid would post about the message sent with ``ledger_key``."""
        sent = self.sent_with(ledger_key)
        mail = sent.json
        item: dict[str, Any] = {
            "email": mail["personalizations"][0]["to"][0]["email"],
            "timestamp": int(time.time()),
            "event": event,
            "sg_event_id": secrets.token_urlsafe(16),
            "sg_message_id": f"{sent.provider_id}.filter0001.0.0",
            "smtp-id": f"<{sent.provider_id}@fake.sendgrid>",
            **self.custom_args(mail),
            **extra,
        }
        if reason is not None:
            item["reason"] = reason
        if event == "bounce":
            item.setdefault("reason", "550 5.1.1 The email account that you tried to reach does not exist.")
            item.setdefault("type", "bounce")
        return [item]

    def event(self, ledger_key: str, event: str = "bounce", reason: str | None = None, url: str | None = None) -> httpx.Response:
        """Post one event about a sent message to crisisflow, signed with this fake's key."""
        body = json.dumps(self.event_batch(ledger_key, event, reason)).encode()
        return httpx.post(url or self.events_url, content=body, headers=self.signer.headers(body), timeout=30)

    async def _control_event(self, request: Request) -> Response:
        data = await request.json()
        body = json.dumps(self.event_batch(data["ledger_key"], data.get("event", "bounce"), data.get("reason"))).encode()
        async with httpx.AsyncClient(timeout=30) as client:
            answer = await client.post(data.get("url") or self.events_url, content=body, headers=self.signer.headers(body))
        return JSONResponse({"status": answer.status_code, "body": answer.text})


# ---- a receiver of crisisflow's signed publishing webhooks ---------------------------------------


# ---- Slack -----------------------------------------------------------------------------------


class SlackSigner:
    """Signs requests as Slack signs the ones it sends an app: ``v0=`` HMAC-SHA256 over
    ``v0:{timestamp}:{body}`` with the app's signing secret."""

    def __init__(self, secret: str):
        self.secret = secret

    def headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        import hashlib
        import hmac

        stamp = str(int(time.time()) if timestamp is None else timestamp)
        digest = hmac.new(self.secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        return {
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": f"v0={digest}",
            "Content-Type": "application/x-www-form-urlencoded",
        }

    def interactivity(self, payload: dict[str, Any], timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
        """Body and headers of an interactivity request (``payload`` as a JSON form field)."""
        from urllib.parse import urlencode

        body = urlencode({"payload": json.dumps(payload)}).encode()
        return body, self.headers(body, timestamp)

    def command(
        self, user: str, text: str, command: str = "/crisis", timestamp: int | None = None
    ) -> tuple[bytes, dict[str, str]]:
        from urllib.parse import urlencode

        body = urlencode(
            {
                "command": command,
                "text": text,
                "user_id": user,
                "user_name": user.lower(),
                "team_id": "T0001",
                "channel_id": "C0001",
                "trigger_id": f"{secrets.randbelow(10**9)}.{secrets.randbelow(10**9)}",
                "response_url": "https://hooks.slack.com/commands/T0001/1/x",
            }
        ).encode()
        return body, self.headers(body, timestamp)


def block_action(user: str, action_id: str, value: str, channel: str, ts: str) -> dict[str, Any]:
    """The ``block_actions`` payload Slack sends when ``user`` presses a button of message ``ts``."""
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": "T0001"},
        "team": {"id": "T0001"},
        "api_app_id": "A0001",
        "trigger_id": f"{secrets.randbelow(10**9)}.{secrets.randbelow(10**9)}",
        "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False},
        "channel": {"id": channel},
        "actions": [
            {"type": "button", "action_id": action_id, "block_id": "b", "value": value, "action_ts": f"{time.time():.6f}"}
        ],
    }


def view_submission(user: str, callback_id: str, private_metadata: str, values: dict[str, Any]) -> dict[str, Any]:
    """The ``view_submission`` payload of a modal (``values``: block id → action id → element state)."""
    return {
        "type": "view_submission",
        "user": {"id": user},
        "team": {"id": "T0001"},
        "view": {
            "id": "V" + secrets.token_hex(4).upper(),
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "state": {"values": values},
        },
    }


class FakeSlack(FakeProvider):
    """Slack's Web API methods crisisflow calls (``POST /api/<method>``, form-encoded, ``views.open``
    as GET), with the bot token checked, answering as Slack does (``ok`` and the fields used)."""

    name = "slack"

    def __init__(self, token: str | None = None, **kwargs):
        self.token = token
        self.channels: dict[str, dict[str, Any]] = {}  # id → name, members, archived, pins
        super().__init__(**kwargs)

    def routes(self) -> list[Route]:
        return [Route("/api/{method}", self._method, methods=["GET", "POST"])]

    def reset(self) -> None:
        super().reset()
        self.channels.clear()

    def error_body(self, status: int) -> Any:
        return {"ok": False, "error": "ratelimited" if status == 429 else "internal_error"}

    async def _method(self, request: Request) -> Response:
        recorded, fault = await self._record(request)
        if (faulted := self._faulted(recorded, fault)) is not None:
            return faulted
        method = request.path_params["method"]
        if request.method == "GET":
            recorded.body = request.url.query.encode()  # recorded like a form, so ``calls`` reads either
        args = recorded.form
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if self.token is not None and token != self.token:
            return self._answer(recorded, {"ok": False, "error": "invalid_auth"})
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return self._answer(recorded, {"ok": False, "error": "unknown_method"})
        return self._answer(recorded, handler(args))

    def _answer(self, recorded: Recorded, data: dict[str, Any]) -> Response:
        if data.get("ok"):
            channel = data.get("channel")
            self._accept(recorded, 200, data.get("ts") or (channel.get("id") if isinstance(channel, dict) else channel) or "")
        else:
            recorded.status = 200
        return JSONResponse(data)

    def _conversations_create(self, args) -> dict[str, Any]:
        name = args.get("name", "")
        if not re.fullmatch(r"[a-z0-9_-]{1,80}", name):
            return {"ok": False, "error": "invalid_name_specials"}
        if any(c["name"] == name for c in self.channels.values()):
            return {"ok": False, "error": "name_taken"}
        channel = "C" + secrets.token_hex(5).upper()
        self.channels[channel] = {"name": name, "members": set(), "archived": False, "pins": []}
        return {"ok": True, "channel": {"id": channel, "name": name, "is_channel": True}}

    def _channel(self, args) -> dict[str, Any] | None:
        return self.channels.get(args.get("channel", ""))

    def _conversations_invite(self, args) -> dict[str, Any]:
        channel = self._channel(args)
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        users = set(args.get("users", "").split(","))
        if users <= channel["members"]:
            return {"ok": False, "error": "already_in_channel"}
        channel["members"] |= users
        return {"ok": True, "channel": {"id": args["channel"]}}

    def _chat_postMessage(self, args) -> dict[str, Any]:
        target = args.get("channel", "")
        if not (target.startswith("U") or target.startswith("W") or target in self.channels):
            return {"ok": False, "error": "channel_not_found"}
        if target in self.channels and self.channels[target]["archived"]:
            return {"ok": False, "error": "is_archived"}
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        channel = "D" + target[1:] if target[0] in "UW" else target
        return {"ok": True, "channel": channel, "ts": f"{time.time():.6f}", "message": {"text": args.get("text", "")}}

    def _pins_add(self, args) -> dict[str, Any]:
        channel = self._channel(args)
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        channel["pins"].append(args.get("timestamp"))
        return {"ok": True}

    def _chat_update(self, args) -> dict[str, Any]:
        return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts"), "text": args.get("text", "")}

    def _chat_postEphemeral(self, args) -> dict[str, Any]:
        if not args.get("user"):
            return {"ok": False, "error": "user_not_in_channel"}
        return {"ok": True, "message_ts": f"{time.time():.6f}"}

    def _views_open(self, args) -> dict[str, Any]:
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        view = json.loads(args.get("view", "{}"))
        return {"ok": True, "view": {"id": "V" + secrets.token_hex(4).upper(), **view}}

    def _conversations_archive(self, args) -> dict[str, Any]:
        channel = self._channel(args)
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if channel["archived"]:
            return {"ok": False, "error": "already_archived"}
        channel["archived"] = True
        return {"ok": True}

    def calls(self, method: str) -> list[dict[str, str]]:
        """The arguments of each successful call of ``method``, in order."""
        found = []
        for request in self.requests:
            if request.path == f"/api/{method}" and request.accepted:
                found.append(request.form)
        return found

    def messages_to(self, target: str) -> list[dict[str, Any]]:
        """What chat.postMessage posted to a channel or user, blocks parsed."""
        return [
            {**form, "blocks": json.loads(form.get("blocks") or "[]")}
            for form in self.calls("chat.postMessage")
            if form.get("channel") == target
        ]


# ---- Microsoft Teams -------------------------------------------------------------------------


def card_problems(payload: Any) -> list[str]:
    """Why a Workflows webhook body is not a message with Adaptive Cards Teams would render."""
    if not isinstance(payload, dict) or payload.get("type") != "message":
        return ['the body is not {"type": "message", ...}']
    attachments = payload.get("attachments")
    if not isinstance(attachments, list) or not attachments:
        return ["attachments: a non-empty list is required"]
    problems = []
    for index, attachment in enumerate(attachments):
        where = f"attachments.{index}"
        if attachment.get("contentType") != "application/vnd.microsoft.card.adaptive":
            problems.append(f"{where}.contentType: not application/vnd.microsoft.card.adaptive")
        card = attachment.get("content") or {}
        if card.get("type") != "AdaptiveCard":
            problems.append(f"{where}.content.type: not AdaptiveCard")
        if not re.fullmatch(r"1\.[0-6]", str(card.get("version", ""))):
            problems.append(f"{where}.content.version: {card.get('version')!r} is not 1.0-1.6")
        body = card.get("body")
        if not isinstance(body, list) or not body:
            problems.append(f"{where}.content.body: a non-empty list is required")
        for position, element in enumerate(body or []):
            if element.get("type") != "TextBlock" or not isinstance(element.get("text"), str) or not element["text"]:
                problems.append(f"{where}.content.body.{position}: a TextBlock with text is expected")
        for position, action in enumerate(card.get("actions") or []):
            if (
                action.get("type") != "Action.OpenUrl"
                or not re.match(r"https?://", str(action.get("url", "")))
                or not action.get("title")
            ):
                problems.append(
                    f"{where}.content.actions.{position}: an Action.OpenUrl with a title and an absolute url is expected"
                )
    return problems


class FakeTeams(FakeProvider):
    """A Teams Workflows webhook: 202 for a message of valid Adaptive Cards, 400 naming what is wrong otherwise."""

    name = "teams"

    def routes(self) -> list[Route]:
        return [Route("/workflows/crisis", self._post, methods=["POST"])]

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/workflows/crisis"

    async def _post(self, request: Request) -> Response:
        recorded, fault = await self._record(request)
        if (faulted := self._faulted(recorded, fault)) is not None:
            return faulted
        try:
            payload = json.loads(recorded.body)
        except ValueError:
            payload = None
        if problems := card_problems(payload):
            recorded.status = 400
            return JSONResponse({"error": {"code": "InvalidRequestContent", "message": "; ".join(problems)}}, status_code=400)
        run = "08585" + secrets.token_hex(8)
        self._accept(recorded, 202, run)
        return Response(status_code=202, headers={"x-ms-workflow-run-id": run})

    def cards(self) -> list[dict[str, Any]]:
        return [request.json["attachments"][0]["content"] for request in self.accepted]


class FakeWebhookReceiver(FakeProvider):
    """A status page or social scheduler receiving crisisflow's publishing webhooks at
    ``POST /hooks/{name}`` (``url_for(name)``): it checks ``X-Crisis-Signature`` with
    :func:`channels.webhook.verify` (401 when wrong), deduplicates on ``X-Crisis-Delivery`` (a
    repeated delivery is answered 200 again, not taken twice) and answers 200 with ``X-Request-Id``.
    ``secret=None`` takes any signature; faults as for the other fakes."""

    name = "webhook-receiver"

    def __init__(self, secret: str | None, **kwargs):
        self.secret = secret
        self._taken: dict[str, str] = {}  # X-Crisis-Delivery → request id
        super().__init__(**kwargs)

    def routes(self) -> list[Route]:
        return [Route("/hooks/{name}", self._receive, methods=["POST"])]

    def url_for(self, name: str = "status_page") -> str:
        return f"{self.url}/hooks/{name}"

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self._taken.clear()

    @property
    def deliveries(self) -> dict[str, str]:
        """Deliveries taken (once each): X-Crisis-Delivery → the request id answered."""
        with self._lock:
            return dict(self._taken)

    async def _receive(self, request: Request) -> Response:
        from channels.webhook import DELIVERY_HEADER, SIGNATURE_HEADER, verify

        recorded, fault = await self._record(request)
        if (faulted := self._faulted(recorded, fault)) is not None:
            return faulted
        if self.secret is not None and not verify(recorded.body, self.secret, request.headers.get(SIGNATURE_HEADER)):
            recorded.status = 401
            return JSONResponse({"error": "bad signature"}, status_code=401)
        try:
            document = recorded.json
        except ValueError:
            document = None
        if not isinstance(document, dict) or not document.get("event"):
            recorded.status = 400
            return JSONResponse({"error": "not a crisisflow event"}, status_code=400)
        delivery = request.headers.get(DELIVERY_HEADER, "")
        with self._lock:
            request_id = self._taken.get(delivery)
            duplicate = request_id is not None
            if not duplicate:
                request_id = self._taken[delivery] = "req_" + secrets.token_hex(8)
        self._accept(recorded, 200, request_id, accepted=not duplicate)
        return JSONResponse({"ok": True, "duplicate": duplicate}, headers={"X-Request-Id": request_id})


# ---- a fake in another process -----------------------------------------------------------------


class RemoteFake:
    """Drives a fake started with ``python -m tests.fakes.providers`` over its control endpoints."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")

    def requests(self) -> list[dict[str, Any]]:
        return httpx.get(f"{self.url}/_fake/requests", timeout=10).json()

    def accepted(self) -> list[dict[str, Any]]:
        return [request for request in self.requests() if request["accepted"]]

    def inject(self, *faults: Fault) -> None:
        httpx.post(f"{self.url}/_fake/faults", json=[asdict(fault) for fault in faults], timeout=10).raise_for_status()

    def reset(self) -> None:
        httpx.post(f"{self.url}/_fake/reset", timeout=10).raise_for_status()

    def callback(self, sid: str, status: str, error_code: str | None = None) -> dict[str, Any]:
        return httpx.post(
            f"{self.url}/_fake/callback", json={"sid": sid, "status": status, "error_code": error_code}, timeout=40
        ).json()

    def event(self, ledger_key: str, event: str = "bounce", reason: str | None = None) -> dict[str, Any]:
        return httpx.post(
            f"{self.url}/_fake/event", json={"ledger_key": ledger_key, "event": event, "reason": reason}, timeout=40
        ).json()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve fake Twilio and SendGrid APIs on loopback until stopped.")
    parser.add_argument("--twilio-port", type=int, default=0)
    parser.add_argument("--sendgrid-port", type=int, default=0)
    parser.add_argument("--auth-token", help="Twilio auth token to require and to sign callbacks with")
    parser.add_argument("--api-key", help="SendGrid API key to require")
    parser.add_argument("--events-url", help="crisisflow's /webhooks/sendgrid/events, for /_fake/event")
    args = parser.parse_args()
    twilio = FakeTwilio(auth_token=args.auth_token, port=args.twilio_port).start()
    sendgrid = FakeSendGrid(api_key=args.api_key, events_url=args.events_url, port=args.sendgrid_port).start()
    print(f"TWILIO_API_URL={twilio.url}", flush=True)
    print(f"SENDGRID_API_URL={sendgrid.url}", flush=True)
    print(f"SENDGRID_WEBHOOK_PUBLIC_KEY={sendgrid.signer.public_key}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    twilio.stop()
    sendgrid.stop()


if __name__ == "__main__":
    main()
