"""Abuse resistance: rate limits with Retry-After, security headers on every response, CORS off
unless origins are listed, and action-link forms refused from another site."""

import asyncio
import base64
import hashlib
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from api.ratelimit import Limiter
from settings import Rate, parse_rate
from store import tokens
from tests.api.conftest import BASE_URL, issue
from tests.conftest import API_HEADERS


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_bucket_allows_a_burst_then_refills_at_the_rate():
    clock = Clock()
    limiter = Limiter(Rate(3, 60), clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0, 0, 0]
    assert limiter.take("a") == 20  # one token comes back every 20 s
    assert limiter.take("b") == 0  # each caller has a bucket of its own
    clock.now += 20
    assert limiter.take("a") == 0 and limiter.take("a") == 20
    clock.now += 600
    assert [limiter.take("a") for _ in range(4)] == [0, 0, 0, 20]  # never more than the burst


def test_idle_callers_are_forgotten_when_many_are_tracked(monkeypatch):
    monkeypatch.setattr("api.ratelimit.MAX_TRACKED", 3)
    clock = Clock()
    limiter = Limiter(Rate(1, 1), clock=clock)
    for caller in ("a", "b", "c"):
        limiter.take(caller)
    clock.now += 5
    limiter.take("d")
    assert set(limiter.buckets) == {"d"}


@pytest.mark.parametrize("text, rate", [("60/minute", Rate(60, 60)), (" 5 / second ", Rate(5, 1)), ("100/hour", Rate(100, 3600))])
def test_rates_are_read_from_settings(text, rate):
    assert parse_rate(text) == rate and str(rate) in ("60/minute", "5/second", "100/hour")


@pytest.mark.parametrize("text", ["60", "0/minute", "ten/minute", "5/day", ""])
def test_bad_rates_are_refused(text):
    with pytest.raises(ValueError, match="N/second, N/minute or N/hour"):
        parse_rate(text)


def test_declarations_are_limited_per_key_with_retry_after(make_app):
    app = make_app(CRISIS_RATE_LIMIT_DECLARE="2/minute")
    body = {"playbook": "no_such_playbook", "title": "t", "summary": "s"}
    with TestClient(app, base_url=BASE_URL, headers=API_HEADERS) as client:
        assert [client.post("/incidents", json=body).status_code for _ in range(2)] == [422, 422]
        limited = client.post("/incidents", json=body)
        # a token comes back every 30 s; less when the requests before took a while on a busy machine
        assert limited.status_code == 429 and 0 < int(limited.headers["retry-after"]) <= 30
        assert "the limit is 2/minute" in limited.json()["detail"]
        other = issue(client, "second-desk", ["declare"])
        assert client.post("/incidents", json=body, headers=other).status_code == 422  # another key, another bucket
        assert client.get("/incidents").status_code == 200  # reads are not limited


def test_action_links_and_webhooks_are_limited_per_ip(make_app):
    app = make_app(CRISIS_RATE_LIMIT_LINKS="3/minute", CRISIS_RATE_LIMIT_WEBHOOKS="2/second")
    with TestClient(app, base_url=BASE_URL) as client:
        link = "/a/" + "x" * 43
        assert [client.get(link).status_code for _ in range(3)] == [403, 403, 403]
        limited = client.post(link)
        assert limited.status_code == 429 and 0 < int(limited.headers["retry-after"]) <= 20
        assert client.post("/login", data={"key": "guess"}).status_code == 429  # sign-in shares the links' budget
        hooks = [client.post("/webhooks/twilio/status", data={"MessageSid": "SM1"}).status_code for _ in range(3)]
        assert hooks == [403, 403, 429]


def _csp(response) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))


def test_every_response_carries_the_security_headers(admin, anonymous):
    answers = {
        "json": admin.get("/incidents"),
        "page": admin.get("/"),
        "error": anonymous.get("/incidents"),
        "unknown": anonymous.get("/no/such/page"),
        "too large": admin.post("/incidents", content=b"x" * 70_000, headers={"content-type": "application/json"}),
        "action link": anonymous.get("/a/" + "x" * 43),
        "stylesheet": anonymous.get("/static/crisis.css"),
        "probe": anonymous.get("/healthz"),
    }
    assert answers["too large"].status_code == 413
    for name, answer in answers.items():
        assert answer.headers["x-content-type-options"] == "nosniff", name
        assert answer.headers["x-frame-options"] == "DENY", name
        assert answer.headers["referrer-policy"] == ("no-referrer" if name == "action link" else "same-origin"), name
        policy = _csp(answer)
        assert policy["frame-ancestors"] == "'none'" and policy["default-src"] == "'none'", name
        assert policy["script-src"] == "'self'" and "unsafe-inline" not in answer.headers["content-security-policy"], name
        if name == "stylesheet":
            assert "no-store" not in answer.headers.get("cache-control", "")
        else:
            assert answer.headers["cache-control"] == "no-store", name
    assert "strict-transport-security" not in answers["page"].headers


def test_pages_need_no_inline_style_or_script(admin):
    for path in ("/", "/risks/view", "/login"):
        html = admin.get(path).text
        assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/crisis.js" defer>'], (
            path
        )  # our one file, nothing inline
        assert "<style" not in html and " style=" not in html, path
        assert not re.search(r"<[^>]+\son[a-z]+=", html), path  # no inline event handlers either
        assert '<link rel="stylesheet" href="/static/crisis.css">' in html


def test_the_docs_page_allows_exactly_its_own_inline_script(admin):
    docs = admin.get("/docs")
    assert docs.status_code == 200
    inline = re.findall(r"<script>(.*?)</script>", docs.text, re.S)
    assert inline
    policy = _csp(docs)
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy["script-src"]
    assert "'unsafe-inline'" not in policy["script-src"] and policy["frame-ancestors"] == "'none'"


def test_https_public_url_adds_hsts_and_secure_cookies(make_app):
    app = make_app(CRISIS_PUBLIC_URL="https://crisis.example.com")
    with TestClient(app, base_url="https://crisis.example.com") as client:
        assert client.get("/healthz").headers["strict-transport-security"] == "max-age=31536000"
        signed_in = client.post("/login", data={"key": API_HEADERS["Authorization"].split()[1]}, follow_redirects=False)
        assert "Secure" in signed_in.headers["set-cookie"]


def test_cors_is_off_unless_origins_are_listed(make_app):
    preflight = {
        "origin": "https://status.example.com",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type",
    }
    with TestClient(make_app(), base_url=BASE_URL) as client:
        answer = client.options("/incidents", headers=preflight)
        assert "access-control-allow-origin" not in answer.headers
        assert (
            "access-control-allow-origin" not in client.get("/healthz", headers={"origin": "https://status.example.com"}).headers
        )
    with TestClient(make_app(CRISIS_CORS_ORIGINS="https://status.example.com"), base_url=BASE_URL) as client:
        answer = client.options("/incidents", headers=preflight)
        assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == "https://status.example.com"
        assert "authorization" in answer.headers["access-control-allow-headers"].lower()
        assert "access-control-allow-credentials" not in answer.headers  # keys travel in a header, never as cookies
        other = client.options("/incidents", headers={**preflight, "origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def _mint(app, purpose: str = "acknowledge") -> str:
    async def mint():
        async with app.state.sessions() as session:
            links = tokens.Links(await session.connection())
            minted = await links.mint(
                ledger_key="inc-x/page.incident_commander.0.0/email",
                incident_id="inc-x",
                person_id="ewa.lewandowska",
                purpose=purpose,
                ttl=timedelta(hours=1),
            )
            await links.write()
            await session.commit()  # a send commits its links with its ledger row; here there is none
            return minted.token

    return asyncio.run(mint())


def test_an_action_link_form_from_another_site_changes_nothing(app, anonymous):
    token = _mint(app)
    forged = anonymous.post(f"/a/{token}", headers={"origin": "https://evil.example"})
    assert forged.status_code == 403 and "another site" in forged.text
    referred = anonymous.post(f"/a/{token}", headers={"referer": "https://evil.example/page"})
    assert referred.status_code == 403
    assert anonymous.get(f"/a/{token}").status_code == 200  # the link is still unused
    own = anonymous.post(f"/a/{token}", headers={"origin": "null"})  # what our no-referrer page's form sends
    assert own.status_code == 410 and "no longer exists" in own.text  # let through (the stand-in Temporal has no incident)
