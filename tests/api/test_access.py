"""Access: every route needs an API key except the open list, every write declares a scope, keys
can be revoked, the browser session only reads, and the timeline is told which key acted.

The route walk covers routes that do not exist yet: a new route without a scope, or reachable
without a key, fails here (see docs/security.md for how a route declares its scope)."""

import re

import pytest
from fastapi import APIRouter, Depends
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.auth import SESSION_COOKIE, WRITE_METHODS, RecentlyVerified, Scope, declared_scopes, is_open, require_scope
from cli import app as cli
from tests.api.conftest import BASE_URL, issue
from tests.conftest import API_HEADERS, TEST_API_KEY

# What may be open, and why: action links carry their own single-use token, provider webhooks are
# signed, probes must answer a load balancer, the docs and the stylesheet are public, and the
# sign-in form is how a browser gets a session. Nothing else.
ALLOWED_OPEN = [r"/a/.*", r"/webhooks/.*", r"/healthz", r"/readyz", r"/static(/.*)?", r"/login", r"/logout"]


def allowed_open(path: str) -> bool:
    return any(re.fullmatch(pattern, path) for pattern in ALLOWED_OPEN)


def concrete(path: str) -> str:
    return re.sub(r"{[^}]+}", "x1", path)


def unscoped_writes(app) -> list[str]:
    return [
        f"{method} {context.path}"
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute) and not is_open(context.path)
        for method in sorted(context.methods & WRITE_METHODS)
        if not declared_scopes(context)
    ]


def reachable_without_key(app, client: TestClient) -> list[str]:
    """Every route of the app that does not need a key and is not allowed to be open."""
    found = []
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute):  # the docs, the stylesheet: no dependency runs for them
            if not (is_open(context.path) and allowed_open(context.path)):
                found.append(f"{context.path} (not an API route: add it to the open list only if it must be public)")
            continue
        if is_open(context.path):
            if not allowed_open(context.path):
                found.append(f"{context.path} (in api/auth.py's open list, but not a kind of route that may be open)")
            continue
        for method in sorted(context.methods):
            answer = client.request(method, concrete(context.path), headers={"accept": "application/json"})
            if answer.status_code != 401 or answer.headers.get("www-authenticate") != "Bearer":
                found.append(f"{method} {context.path} answered {answer.status_code} without a key")
    return found


def test_every_route_outside_the_open_list_needs_a_key(app, anonymous):
    assert reachable_without_key(app, anonymous) == []
    routes = {context.path for context in iter_route_contexts(app.routes)}
    assert {"/incidents", "/incidents/{incident}/acknowledge", "/outbox", "/metrics", "/", "/risks/view", "/apikeys"} <= routes


def test_every_write_route_declares_a_scope(app):
    assert unscoped_writes(app) == [], "declare the scope: dependencies=[require_scope(Scope.RESPOND)] (see docs/security.md)"


def test_the_walk_catches_a_new_route_that_forgets(make_app):
    app = make_app()
    forgetful = APIRouter()

    @forgetful.post("/reports")
    async def make_report() -> dict:
        return {}

    @forgetful.get("/webhooks-ish/export")
    async def export() -> dict:
        return {}

    scoped = APIRouter()

    @scoped.post("/drills", dependencies=[require_scope(Scope.DECLARE)])
    async def start_drill() -> dict:
        return {}

    app.include_router(forgetful)
    app.include_router(scoped)
    assert unscoped_writes(app) == ["POST /reports"]
    with TestClient(app, base_url=BASE_URL) as client:
        assert reachable_without_key(app, client) == []  # the app-wide dependency covers new routes too
        assert client.get("/webhooks-ish/export").status_code == 401

    app.router.add_route("/raw", lambda request: None)
    with TestClient(app, base_url=BASE_URL) as client:
        assert any(problem.startswith("/raw") for problem in reachable_without_key(app, client))


@pytest.mark.parametrize(
    "header", ["Bearer cf_unknown-key-0000000000000000000000000", "Basic YWRtaW46YWRtaW4=", "Bearer", "cf_no-scheme"]
)
def test_unknown_or_malformed_credentials_are_401(anonymous, header):
    answer = anonymous.get("/incidents", headers={"Authorization": header})
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
    assert answer.json()["detail"]


def test_scopes_decide_the_writes_and_any_key_reads(admin):
    declarer = issue(admin, "status-bot", ["declare"])
    responder = issue(admin, "ops-team", ["respond"])
    body = {"playbook": "no_such_playbook", "title": "t", "summary": "s"}

    assert admin.post("/incidents", json=body, headers=responder).status_code == 403
    assert "lacks the 'declare' scope" in admin.post("/incidents", json=body, headers=responder).json()["detail"]
    assert admin.post("/incidents", json=body, headers=declarer).status_code == 422  # let in: the playbook is what is wrong
    assert admin.post("/incidents/inc-x/acknowledge", json={"person": "ewa.lewandowska"}, headers=declarer).status_code == 403
    assert admin.post("/incidents/inc-x/acknowledge", json={"person": "ewa.lewandowska"}, headers=responder).status_code == 404
    assert admin.post("/incidents/inc-x/acknowledge", json={"person": "ewa.lewandowska"}).status_code == 404  # admin: everything
    for headers in (declarer, responder):
        assert admin.get("/incidents", headers=headers).status_code == 200
        assert admin.get("/apikeys", headers=headers).status_code == 403
        assert admin.post("/apikeys", json={"name": "sneaky", "scopes": ["admin"]}, headers=headers).status_code == 403


def test_keys_are_shown_once_stored_hashed_and_revoked_at_once(app, admin):
    made = admin.post("/apikeys", json={"name": "press-office", "scopes": ["respond", "declare", "respond"]})
    assert made.status_code == 201
    key = made.json()["key"]
    assert key.startswith("cf_") and len(key) >= 46 and made.json()["scopes"] == ["declare", "respond"]
    listed = admin.get("/apikeys").json()
    assert [k["name"] for k in listed] == ["bootstrap", "press-office"] and all("key" not in k for k in listed)
    assert admin.post("/apikeys", json={"name": "press-office", "scopes": ["declare"]}).status_code == 409

    import sqlite3

    with sqlite3.connect(app.state.settings.database_url.split("///", 1)[1]) as db:
        stored = db.execute("SELECT key_hash FROM api_keys WHERE name = 'press-office'").fetchone()[0]
        everything = "\n".join(str(row) for row in db.execute("SELECT * FROM api_keys"))
    assert key not in everything and len(stored) == 64

    press = {"Authorization": f"Bearer {key}"}
    assert admin.get("/incidents", headers=press).status_code == 200
    assert admin.post("/apikeys/press-office/revoke").json()["revoked_at"] is not None
    assert admin.get("/incidents", headers=press).status_code == 401
    assert admin.post("/apikeys/no-such-key/revoke").status_code == 404


def test_the_bootstrap_key_is_made_once_and_stays_revoked(make_app):
    first = make_app()
    with TestClient(first, base_url=BASE_URL, headers=API_HEADERS) as client:
        assert [k["name"] for k in client.get("/apikeys").json()] == ["bootstrap"]
        assert client.post("/apikeys/bootstrap/revoke").status_code == 200
    again = make_app(DATABASE_URL=first.state.settings.database_url)
    with TestClient(again, base_url=BASE_URL, headers=API_HEADERS) as client:
        assert client.get("/incidents").status_code == 401  # restarting with the same CRISIS_API_KEY does not revive it


def test_a_browser_signs_in_once_and_its_session_only_reads(anonymous):
    page = anonymous.get("/risks/view", headers={"accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Frisks%2Fview"
    form = anonymous.get("/login?next=/risks/view")
    assert form.status_code == 200 and 'name="key"' in form.text

    wrong = anonymous.post(
        "/login", data={"key": "cf_wrong-key-000000000000000000000000", "next": "/risks/view"}, follow_redirects=False
    )
    assert wrong.status_code == 401 and SESSION_COOKIE not in wrong.cookies
    signed_in = anonymous.post("/login", data={"key": TEST_API_KEY, "next": "/risks/view"}, follow_redirects=False)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/risks/view"
    cookie = signed_in.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie

    assert anonymous.get("/risks/view").status_code == 200
    assert "Sign out (bootstrap)" in anonymous.get("/").text
    assert anonymous.get("/incidents").status_code == 200
    write = anonymous.post("/incidents/inc-x/acknowledge", json={"person": "ewa.lewandowska"})
    assert write.status_code == 401 and "Authorization" in write.json()["detail"]  # a cookie never writes

    out = anonymous.post("/logout", follow_redirects=False)
    assert out.status_code == 303 and anonymous.get("/incidents").status_code == 401


def test_a_forged_session_cookie_is_refused(anonymous):
    anonymous.cookies.set(SESSION_COOKIE, "cf_forged-session-0000000000000000000000000")
    assert anonymous.get("/incidents").status_code == 401
    page = anonymous.get("/", headers={"accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_sign_in_never_redirects_to_another_site(anonymous, target):
    answer = anonymous.post("/login", data={"key": TEST_API_KEY, "next": target}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_sign_in_and_out_from_another_site_are_refused(anonymous):
    foreign = {"origin": "https://evil.example"}
    for headers in (foreign, {"origin": "null"}, {"referer": "https://evil.example/x"}):
        planted = anonymous.post("/login", data={"key": TEST_API_KEY}, headers=headers, follow_redirects=False)
        assert planted.status_code == 403 and SESSION_COOKIE not in planted.cookies
    anonymous.post("/login", data={"key": TEST_API_KEY}, headers={"origin": BASE_URL}, follow_redirects=False)
    assert anonymous.post("/logout", headers=foreign, follow_redirects=False).status_code == 403
    assert anonymous.get("/incidents").status_code == 200  # still signed in


def test_the_openapi_document_describes_the_access_rules(anonymous, admin):
    assert anonymous.get("/openapi.json").status_code == 401  # the API's description is a read like any other
    assert (
        anonymous.get("/docs", headers={"accept": "text/html"}, follow_redirects=False).headers["location"]
        == "/login?next=%2Fdocs"
    )
    schema = admin.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key from `crisis apikey create` (docs/security.md).",
    }
    declare = schema["paths"]["/incidents"]["post"]
    assert declare["security"] == [{"apiKey": []}] and {"401", "403", "429"} <= set(declare["responses"])
    assert "403" not in schema["paths"]["/incidents"]["get"]["responses"]
    assert "security" not in schema["paths"]["/healthz"]["get"]
    assert "security" not in schema["paths"]["/webhooks/twilio/status"]["post"]
    assert "via" not in str(schema["components"]["schemas"]["Acknowledge"])  # set by the server, never by the caller


def test_cli_creates_lists_and_revokes_keys(app, monkeypatch):
    with TestClient(app):  # the database at its schema, with the bootstrap key
        pass
    monkeypatch.setenv("DATABASE_URL", app.state.settings.database_url)
    runner = CliRunner()
    made = runner.invoke(cli, ["apikey", "create", "--name", "comms-desk", "--scopes", "respond,declare"])
    assert made.exit_code == 0, made.output
    key = made.output.strip().splitlines()[-1]
    assert key.startswith("cf_") and "shown this once" in made.output and "declare,respond" in made.output

    listed = runner.invoke(cli, ["apikey", "list"])
    assert listed.exit_code == 0 and "comms-desk" in listed.output and "bootstrap" in listed.output and key not in listed.output

    assert "scopes: publish" in runner.invoke(cli, ["apikey", "create", "--name", "x", "--scopes", "publish"]).output
    assert "exists already" in runner.invoke(cli, ["apikey", "create", "--name", "comms-desk", "--scopes", "declare"]).output
    assert runner.invoke(cli, ["apikey", "revoke", "comms-desk"]).exit_code == 0
    assert "revoked" in runner.invoke(cli, ["apikey", "list"]).output
    assert runner.invoke(cli, ["apikey", "revoke", "nobody"]).exit_code == 1
    with TestClient(app, base_url=BASE_URL) as client:
        assert client.get("/incidents", headers={"Authorization": f"Bearer {key}"}).status_code == 401


def test_the_cli_needs_a_key_to_call_the_api(monkeypatch, tmp_path):
    monkeypatch.delenv("CRISIS_API_KEY", raising=False)
    monkeypatch.setenv("CRISIS_DATA_DIR", str(tmp_path))  # no `crisis dev` key kept there
    result = CliRunner().invoke(cli, ["ls", "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 1 and "set CRISIS_API_KEY" in result.output and str(tmp_path) in result.output


def test_a_write_route_declares_its_scope_in_one_line():
    router = APIRouter()

    @router.post("/answers", dependencies=[require_scope(Scope.RESPOND)])
    async def answer() -> dict:
        return {}

    route = router.routes[0]
    assert declared_scopes(route) == {"respond"}
    assert isinstance(require_scope("admin"), type(Depends(lambda: None)))


def test_during_a_database_outage_only_keys_verified_lately_are_recalled():
    verified = RecentlyVerified()
    verified.remember("cf_known", "comms-desk", frozenset({"respond"}))
    assert verified.recall("cf_known") == ("comms-desk", frozenset({"respond"}))
    assert verified.recall("cf_never_seen") is None
    verified.forget("cf_known")  # revoked while the database was up
    assert verified.recall("cf_known") is None
    expired = RecentlyVerified(grace_s=0)
    expired.remember("cf_known", "comms-desk", frozenset({"respond"}))
    assert expired.recall("cf_known") is None


def test_a_signed_in_browser_may_submit_the_dashboards_own_form_but_another_site_may_not(anonymous):
    anonymous.post("/login", data={"key": TEST_API_KEY, "next": "/"}, follow_redirects=False)
    forged = anonymous.post(
        "/signals/sig-x/decide",
        data={"person": "ewa.lewandowska", "decision": "dismiss"},
        headers={"origin": "https://evil.example"},
    )
    assert forged.status_code == 401  # the session cookie alone writes nothing from another site
    own = anonymous.post(
        "/signals/sig-x/decide", data={"person": "ewa.lewandowska", "decision": "dismiss"}, headers={"origin": BASE_URL}
    )
    assert (
        own.status_code == 404 and "signal &#39;sig-x&#39; does not exist" in own.text
    )  # through the door, to the route's own answer
