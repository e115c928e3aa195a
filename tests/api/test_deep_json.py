"""Deeply nested JSON (issue 16 #9): a few KB of brackets used to be a RecursionError and a 500 on
``POST /webhooks/sendgrid/events`` (unauthenticated without a key) and ``POST /mentions``. Every
endpoint now answers 400 before anything parses the body."""

import json

import pytest
from fastapi.testclient import TestClient

from api.limits import MAX_JSON_DEPTH, TooDeep, check_json_depth, loads
from tests.api.conftest import BASE_URL
from tests.conftest import API_HEADERS
from tests.fakes.providers import EventSigner

SIGNER = EventSigner()
BRACKETS = 5000  # about 10 KB: deeper than Python's recursion limit


def nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


@pytest.mark.parametrize("depth", [1, MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH])
def test_json_up_to_the_limit_passes(depth):
    check_json_depth(nested(depth).encode())
    check_json_depth(json.dumps({"a": json.loads(nested(depth - 1, "{}"))}).encode())


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100, BRACKETS])
def test_json_deeper_than_the_limit_is_refused_without_parsing(depth):
    with pytest.raises(TooDeep, match=f"deeper than {MAX_JSON_DEPTH} levels"):
        check_json_depth(nested(depth).encode())
    with pytest.raises(TooDeep):
        check_json_depth(b"[" * depth)  # not even valid JSON: counted all the same


def test_brackets_inside_strings_do_not_count():
    text = json.dumps([{"text": "[" * 1000 + '\\"{' * 1000, "more": ["]]]"]}])
    assert loads(text.encode()) == json.loads(text)


def test_loads_gives_a_value_error_never_a_recursion_error():
    with pytest.raises(ValueError):
        loads(nested(BRACKETS).encode())


def _body_routes(app) -> list[tuple[str, str]]:
    """Every (method, path) of the API's description that takes a body, plus the routes that read
    their body themselves (mentions, webhooks), with a made-up value for each path parameter."""
    described = app.openapi()
    routes = [
        (method.upper(), path.replace("{", "").replace("}", ""))
        for path, operations in described["paths"].items()
        for method, operation in operations.items()
        if method in ("post", "put", "patch", "delete")
    ]
    return sorted(set(routes))


@pytest.fixture
def client(make_app):
    with TestClient(make_app(), base_url=BASE_URL, headers=API_HEADERS, raise_server_exceptions=False) as http:
        yield http


def test_every_route_answers_a_deeply_nested_body_with_400(client):
    body = nested(BRACKETS).encode()
    routes = _body_routes(client.app)
    assert ("POST", "/mentions") in routes and ("POST", "/webhooks/sendgrid/events") in routes
    for method, path in routes:
        for content_type in ("application/json", "text/plain"):
            answer = client.request(method, path, content=body, headers={"content-type": content_type})
            assert answer.status_code == 400, (method, path, content_type, answer.status_code, answer.text[:200])
            assert f"deeper than {MAX_JSON_DEPTH} levels" in answer.json()["detail"]


def test_the_unauthenticated_sendgrid_webhook_refuses_a_deep_batch(make_app):
    with TestClient(make_app(), base_url=BASE_URL, raise_server_exceptions=False) as anonymous:
        answer = anonymous.post(
            "/webhooks/sendgrid/events", content=nested(BRACKETS), headers={"content-type": "application/json"}
        )
    assert answer.status_code == 400


def test_bodies_within_the_limit_reach_their_routes_as_before(client, make_app):
    within = nested(MAX_JSON_DEPTH - 2, "{}")
    with TestClient(make_app(SENDGRID_WEBHOOK_PUBLIC_KEY=SIGNER.public_key), base_url=BASE_URL) as sendgrid:
        signed = sendgrid.post("/webhooks/sendgrid/events", content=within, headers=SIGNER.headers(within.encode()))
        assert signed.status_code == 400 and "expected a JSON array of events" in signed.text
    refused = client.post("/mentions", content=within)
    assert refused.status_code == 422 and refused.json()["detail"].startswith("mentions.0")
    assert client.post("/incidents", json={"playbook": "technical_outage", "title": [[["x"]]], "summary": "s"}).status_code == 422


def test_forms_are_left_to_their_routes(client):
    answer = client.post(
        "/webhooks/twilio/status", content="Body=" + "[" * BRACKETS, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert answer.status_code == 403  # unsigned, as before: the depth limit does not read forms


def test_the_api_description_names_the_400_on_every_operation_with_a_body(client):
    described = client.app.openapi()
    for path, operations in described["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                assert "400" in operation["responses"], (method, path)
    assert "400" in described["paths"]["/mentions"]["post"]["responses"]


def test_a_body_the_middleware_checked_is_not_counted_again_but_a_stricter_limit_still_is():
    body = nested(MAX_JSON_DEPTH).encode()
    checked_within = {"crisisflow.json_depth_checked": MAX_JSON_DEPTH}
    assert loads(body, scope=checked_within) == json.loads(body)
    with pytest.raises(TooDeep):
        loads(body, limit=MAX_JSON_DEPTH - 1, scope=checked_within)
    with pytest.raises(TooDeep):
        loads(nested(MAX_JSON_DEPTH + 1).encode(), scope={})
