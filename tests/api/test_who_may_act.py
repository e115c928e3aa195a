"""Who may act (issue 16): nobody acts as someone else through an ambiguous key reference, a
stolen link, a reused Idempotency-Key or a replayed webhook. Each test here failed before its fix."""

import sqlite3
from datetime import datetime, timezone

from cli import app as cli
from tests.api.conftest import issue


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
