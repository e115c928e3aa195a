"""The provider webhooks fuzzed with Hypothesis: whatever arrives (any bytes, any headers, forms
and event batches correctly signed but of any shape, control characters in any string, JSON
nested thousands of levels deep) is answered 2xx or 4xx, never a 5xx. Unsigned or wrongly signed
input is always refused with 403, or 400 when it nests too deep to be read."""

import json
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from api.limits import MAX_JSON_DEPTH
from api.main import create_app
from domain.catalog import load_catalog
from settings import Settings
from tests.api.conftest import NoIncidents, database_url
from tests.conftest import PROJECT
from tests.fakes.providers import EventSigner

PUBLIC_URL = "https://crisis.northwind.example"
AUTH_TOKEN = "a" * 32
SIGNER = EventSigner()
PHONES = [person.phone for person in load_catalog(PROJECT / "playbooks").roster.people]
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
TWILIO_PATHS = ["/webhooks/twilio/status", "/webhooks/twilio/sms"]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    app = create_app(
        Settings(
            DATABASE_URL=database_url(folder / "crisis.db"),
            CRISIS_PUBLIC_URL=PUBLIC_URL,
            TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            SENDGRID_WEBHOOK_PUBLIC_KEY=SIGNER.public_key,
            CRISIS_RATE_LIMIT_WEBHOOKS="100000/second",
        ),
        temporal=NoIncidents(),
    )
    with TestClient(app, base_url=PUBLIC_URL, raise_server_exceptions=False) as http:
        yield http


CONTROLS = st.sampled_from(["\x00", "\r\n", "\n", "\x1b[2J", "\x07", "\x7f", "\x85", "\u2028"])
words = st.text(max_size=40) | st.tuples(st.text(max_size=15), CONTROLS, st.text(max_size=15)).map("".join)


def _nest(depth: int, kind: str, inner: str) -> str:
    if kind == "object":
        return '{"event":' * depth + inner + "}" * depth
    return "[" * depth + inner + "]" * depth


deep_bodies = st.builds(
    _nest,
    st.integers(min_value=MAX_JSON_DEPTH - 2, max_value=4000),
    st.sampled_from(["array", "object"]),
    st.sampled_from(["1", "{}", '{"event":"bounce"}', '"\\u0000"']),
)
forms = st.dictionaries(
    st.sampled_from(["MessageSid", "MessageStatus", "ErrorCode", "From", "To", "Body", "AccountSid"]) | words, words, max_size=8
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | words,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(words, children, max_size=4),
    max_leaves=20,
)
events = st.lists(
    st.fixed_dictionaries(
        {"event": st.sampled_from(["delivered", "bounce", "dropped", "open", "processed"]) | words},
        optional={
            "crisis_ledger_key": words | json_values,
            "reason": json_values,
            "type": json_values,
            "sg_message_id": json_values,
        },
    ),
    max_size=6,
)


@FUZZ
@given(
    path=st.sampled_from(TWILIO_PATHS + ["/webhooks/sendgrid/events"]),
    body=st.binary(max_size=300),
    content_type=st.sampled_from(["application/x-www-form-urlencoded", "application/json", "text/plain", ""]),
    signature=st.none() | st.binary(max_size=60).map(lambda raw: bytes(byte for byte in raw if byte >= 32 and byte != 127)),
)
def test_anything_unsigned_is_refused_and_nothing_is_a_server_error(client, path, body, content_type, signature):
    headers = {"content-type": content_type} if content_type else {}
    if signature is not None:
        headers["X-Twilio-Signature"] = headers["X-Twilio-Email-Event-Webhook-Signature"] = signature
        headers["X-Twilio-Email-Event-Webhook-Timestamp"] = b"1700000000"
    answer = client.post(path, content=body, headers=headers)
    assert answer.status_code in (400, 403), (answer.status_code, answer.text)


@FUZZ
@given(path=st.sampled_from(TWILIO_PATHS), form=forms, sender=st.none() | st.sampled_from(PHONES))
def test_signed_twilio_forms_of_any_shape_are_never_a_server_error(client, path, form, sender):
    if sender is not None:
        form = {**form, "From": sender}
    body = urlencode(form)
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + path, form)
    headers = {"content-type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
    answer = client.post(path, content=body, headers=headers)
    assert answer.status_code in (200, 400, 403, 404, 409), (answer.status_code, answer.text)
    tampered = client.post(path, content=urlencode({**form, "Body": form.get("Body", "") + "!"}), headers=headers)
    assert tampered.status_code == 403


@FUZZ
@given(batch=events | json_values)
def test_signed_sendgrid_batches_of_any_shape_are_never_a_server_error(client, batch):
    body = json.dumps(batch).encode()
    answer = client.post("/webhooks/sendgrid/events", content=body, headers=SIGNER.headers(body))
    assert answer.status_code in (200, 400, 404, 409), (answer.status_code, answer.text)
    if answer.status_code == 200:
        assert set(answer.json()) == {"applied", "ignored", "unknown", "replayed"}
    replayed_elsewhere = client.post("/webhooks/sendgrid/events", content=body + b" ", headers=SIGNER.headers(body))
    assert replayed_elsewhere.status_code == 403  # the signature covers the exact body


@FUZZ
@given(body=deep_bodies, signed=st.booleans(), path=st.sampled_from(TWILIO_PATHS + ["/webhooks/sendgrid/events", "/mentions"]))
def test_json_nested_at_any_depth_is_refused_and_never_a_server_error(client, body, signed, path):
    raw = body.encode()
    headers = {"content-type": "application/json", **(SIGNER.headers(raw) if signed else {})}
    answer = client.post(path, content=raw, headers=headers)
    depth = max(raw.count(b"["), raw.count(b"{"))
    assert answer.status_code == 400 if depth > MAX_JSON_DEPTH else answer.status_code in (400, 401, 403), (
        answer.status_code,
        answer.text,
    )
