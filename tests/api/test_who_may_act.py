"""Who may act (issue 16): nobody acts as someone else through an ambiguous key reference, a
stolen link, a reused Idempotency-Key or a replayed webhook. Each test here failed before its fix."""

import asyncio
import sqlite3
from datetime import datetime, timedelta, timezone

from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from api.auth import SESSION_COOKIE
from cli import app as cli
from domain.incident import Phase
from domain.receipts import UpdateReceipt
from store import service, tokens
from store.db import create_engine, session_factory
from tests.api.conftest import BASE_URL, issue
from tests.conftest import API_HEADERS

TWILIO_TOKEN = "f" * 32
EWA_PHONE = "+48601204311"  # ewa.lewandowska in the shipped roster


class RecordingTemporal:
    """A Temporal client whose every incident exists and takes every Update: what is under test is
    which Updates the edge sends, not the workflow."""

    def __init__(self):
        self.updates: list[tuple[str, str, list]] = []

    def get_workflow_handle(self, workflow_id):
        outer = self

        class Handle:
            async def execute_update(self, update, arg, id=None):
                outer.updates.append((workflow_id, getattr(update, "__name__", str(update)), [arg]))
                return UpdateReceipt(phase=Phase.ASSESS, events=[f"acknowledged {workflow_id}"])

        return Handle()


def _database(app) -> str:
    return app.state.settings.database_url.split("///", 1)[1]


def test_a_key_name_never_reads_as_another_keys_id(app, admin, monkeypatch):
    for number in range(2, 8):
        issue(admin, f"desk-{number}", ["respond"])
    assert [k["id"] for k in admin.get("/apikeys").json()][-1] == 7
    refused = admin.post("/apikeys", json={"name": "7", "scopes": ["declare"]})
    assert refused.status_code == 422 and "all digits" in refused.text

    from typer.testing import CliRunner

    monkeypatch.setenv("DATABASE_URL", app.state.settings.database_url)
    made = CliRunner().invoke(cli, ["apikey", "create", "--name", "12", "--scopes", "declare"])
    assert made.exit_code == 1 and "all digits" in made.output

    # A database from before the rule may hold a key named "7": revoking "7" names both and changes nothing.
    with sqlite3.connect(_database(app)) as db:
        db.execute(
            "INSERT INTO api_keys (name, key_hash, prefix, scopes, created_at) VALUES ('7', ?, 'cf_legac', '[\"declare\"]', ?)",
            ("0" * 64, datetime.now(timezone.utc).isoformat(" ")),
        )
    ambiguous = admin.post("/apikeys/7/revoke")
    assert ambiguous.status_code == 409, ambiguous.text
    assert "id of key 'desk-7'" in ambiguous.json()["detail"] and "by its id 8" in ambiguous.json()["detail"]
    assert all(k["revoked_at"] is None for k in admin.get("/apikeys").json())
    assert admin.post("/apikeys/desk-7/revoke").json()["id"] == 7
    assert admin.post("/apikeys/8/revoke").json()["name"] == "7"


def _mint_page(database_url: str, incident: str, person: str = "ewa.lewandowska") -> str:
    async def mint():
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session:
                links = tokens.Links(await session.connection())
                minted = await links.mint(
                    ledger_key=f"{incident}/page.{person}/sms",
                    incident_id=incident,
                    person_id=person,
                    purpose="acknowledge",
                    ttl=timedelta(hours=1),
                )
                await links.write()
                await session.commit()
                return minted.token
        finally:
            await engine.dispose()

    return asyncio.run(mint())


def test_a_replayed_signed_sms_reply_does_not_acknowledge_a_later_incident(make_app):
    temporal = RecordingTemporal()
    app = make_app(TWILIO_AUTH_TOKEN=TWILIO_TOKEN)
    url = f"{BASE_URL}/webhooks/twilio/sms"
    captured = {"From": EWA_PHONE, "To": "+15005550006", "Body": "ACK", "MessageSid": "SM" + "a" * 32}
    signed = {"X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(url, captured)}
    with TestClient(app, base_url=BASE_URL, headers=API_HEADERS) as client:
        app.state.temporal = temporal
        database = app.state.settings.database_url
        _mint_page(database, "inc-first")
        first = client.post("/webhooks/twilio/sms", data=captured, headers=signed)
        assert first.status_code == 200 and "Acknowledged" in first.text
        assert [(incident, name) for incident, name, _ in temporal.updates] == [("inc-first", "acknowledge")]

        _mint_page(database, "inc-later")  # a later incident pages the same person
        replayed = client.post("/webhooks/twilio/sms", data=captured, headers=signed)
        assert replayed.status_code == 409, replayed.text
        assert [incident for incident, _, _ in temporal.updates] == ["inc-first"]

        fresh = {**captured, "MessageSid": "SM" + "b" * 32}  # the person's own new ACK still works
        answered = client.post(
            "/webhooks/twilio/sms",
            data=fresh,
            headers={"X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(url, fresh)},
        )
        assert answered.status_code == 200 and [incident for incident, _, _ in temporal.updates] == ["inc-first", "inc-later"]


def _deliver_page(database_url: str, incident: str, token: str, person: str = "ewa.lewandowska") -> None:
    """A page as the outbox channel stores it: its action link in the SMS body and in the links."""

    async def store():
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session:
                await service.record_outbox(
                    await session.connection(),
                    [
                        {
                            "ledger_key": f"{incident}/page.{person}/sms",
                            "incident_id": incident,
                            "person_id": person,
                            "channel": "sms",
                            "kind": "page",
                            "subject": "SEV1 page",
                            "body": f"SEV1 Checkout down. Reply ACK 1234 or open {BASE_URL}/a/{token}",
                            "links": [
                                {"label": "Acknowledge", "url": f"{BASE_URL}/a/{token}"},
                                {"label": "Incident", "url": f"{BASE_URL}/incidents/{incident}/view"},
                            ],
                            "drill": False,
                            "created_at": datetime.now(timezone.utc),
                        },
                    ],
                )
                await session.commit()
        finally:
            await engine.dispose()

    asyncio.run(store())


def test_only_an_admin_key_reads_live_action_links(app, admin):
    token = _mint_page(app.state.settings.database_url, "inc-links")
    _deliver_page(app.state.settings.database_url, "inc-links", token)
    assert token in admin.get("/outbox").text  # the admin key reads what was sent, link and all
    for name, scopes in (("listener", ["ingest"]), ("desk", ["respond", "declare"])):
        headers = issue(admin, name, scopes)
        for answer in (admin.get("/outbox", headers=headers), admin.get("/outbox?incident=inc-links", headers=headers)):
            assert answer.status_code == 200 and token not in answer.text, name
            [message] = answer.json()
            assert message["body"].endswith("/a/[redacted: only an admin key reads action links]")
            assert message["links"][0]["url"] == f"{BASE_URL}/a/[redacted: only an admin key reads action links]"
            assert message["links"][1]["url"] == f"{BASE_URL}/incidents/inc-links/view"
        with TestClient(app, base_url=BASE_URL, cookies={SESSION_COOKIE: headers["Authorization"].split()[1]}) as browser:
            assert token not in browser.get("/outbox").text  # a signed-in browser of that key neither


def test_a_link_used_with_an_api_key_or_a_signed_in_browser_names_the_key(make_app):
    temporal = RecordingTemporal()
    app = make_app()
    with TestClient(app, base_url=BASE_URL) as client:
        app.state.temporal = temporal
        database = app.state.settings.database_url
        made = client.post("/apikeys", json={"name": "listener", "scopes": ["ingest"]}, headers=API_HEADERS).json()
        through_api, in_browser, plain = (_mint_page(database, f"inc-{n}") for n in ("api", "browser", "plain"))
        assert client.post(f"/a/{through_api}", headers={"Authorization": f"Bearer {made['key']}"}).status_code == 200
        assert client.post(f"/a/{plain}").status_code == 200
        client.cookies.set(SESSION_COOKIE, made["key"])
        assert client.post(f"/a/{in_browser}", headers={"Origin": "null"}).status_code == 200
    via = {incident: action.via for incident, _, (action,) in temporal.updates}
    assert via == {"inc-api": "SMS link, API key listener", "inc-browser": "SMS link, API key listener", "inc-plain": "SMS link"}
