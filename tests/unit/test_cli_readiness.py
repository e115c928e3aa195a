"""`crisis readiness` and `crisis playbooks check` on the risk register (typer's CliRunner, no server)."""

import asyncio
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api import risks
from api.main import create_app
from cli import app
from domain.catalog import CatalogError, load_catalog
from settings import Settings
from store.db import create_engine, create_schema, session_factory
from store.models import IncidentRow
from tests.unit.conftest import SHIPPED, copy_fixtures, edit_yaml

runner = CliRunner()


def test_readiness_of_a_never_drilled_folder_says_nothing_is_ready_and_fails():
    result = runner.invoke(app, ["readiness", str(SHIPPED)], env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    assert "False contamination or health rumour" in result.output
    assert "critical 4×5=20" in result.output
    assert "never drilled" in result.output
    assert "0 of 11 risks ready" in result.output and "readiness 100%" not in result.output
    assert "critical risk(s) not ready: health_rumour, instagram_hijack" in result.output


def test_allow_undrilled_keeps_the_gate_green_but_not_the_readiness():
    result = runner.invoke(app, ["readiness", str(SHIPPED), "--allow-undrilled"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "0 of 11 risks ready" in result.output
    assert "critical risk(s) never drilled, let through by --allow-undrilled: health_rumour, instagram_hijack" in result.output


def test_readiness_fails_when_a_critical_risk_is_not_ready(tmp_path: Path):
    folder = copy_fixtures(tmp_path / "playbooks")

    def one_legal(data):
        data["roles"]["legal"]["escalation"] = ["katarzyna.wisniewska"]
        data["people"][8]["roles"] = ["executive_sponsor"]  # daniel.reyes leaves legal
        data["roles"]["executive_sponsor"]["escalation"].append("daniel.reyes")

    edit_yaml(folder / "team.yaml", one_legal)
    result = runner.invoke(app, ["readiness", str(folder), "--allow-undrilled"], env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    flat = re.sub(r"[│\s]+", " ", result.output)  # a fix may wrap onto the next row of its cell
    assert "add a second person to roles.legal.escalation in team.yaml" in flat
    assert "critical risk(s) not ready: health_rumour, instagram_hijack" in result.output


def test_readiness_without_a_register_says_so(tmp_path: Path):
    folder = copy_fixtures(tmp_path / "playbooks", only=("misinformation",))
    result = runner.invoke(app, ["readiness", str(folder)])
    assert result.exit_code == 0
    assert "no risks.yaml" in result.output


def test_playbooks_check_reports_a_bad_register_as_file_path_reason(tmp_path: Path):
    folder = copy_fixtures(tmp_path / "playbooks")

    def break_register(data):
        data["risks"][0]["playbook"] = "outage"
        data["risks"][1]["likelihood"] = 6

    edit_yaml(folder / "risks.yaml", break_register)
    for command in (["playbooks", "check", str(folder)], ["readiness", str(folder)]):
        result = runner.invoke(app, command)
        assert result.exit_code == 1
        assert f"{folder}/risks.yaml:risks.0.playbook: unknown playbook 'outage'" in result.output
        assert f"{folder}/risks.yaml:risks.1.likelihood: Input should be less than or equal to 5" in result.output


def test_the_api_refuses_to_start_with_an_invalid_register(tmp_path: Path):
    folder = copy_fixtures(tmp_path / "playbooks")
    edit_yaml(folder / "risks.yaml", lambda data: data["risks"][0].update(scenario="alien_invasion"))
    with pytest.raises(CatalogError) as info:
        create_app(Settings(playbooks_dir=folder, data_dir=tmp_path / "var"))
    assert str(info.value).startswith(f"{folder}/risks.yaml:risks.0.scenario: Input should be")


def test_the_api_serves_the_register_as_json_with_the_last_drill_from_the_records(tmp_path: Path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'crisis.db'}")
    asyncio.run(create_schema(engine))
    api = FastAPI()
    api.state.catalog = load_catalog(SHIPPED)
    api.state.sessions = session_factory(engine)
    api.include_router(risks.router)
    client = TestClient(api)
    body = client.get("/risks").json()
    assert (body["organization"], body["total"], body["ready"], body["blocking"]) == (
        "Northwind Coffee",
        11,
        0,
        ["health_rumour", "instagram_hijack"],
    )
    first = body["risks"][0]
    assert (first["priority"], first["band"], first["drill_every"], first["last_drill"]) == (20, "critical", "90d", None)
    assert [c["name"] for c in first["checks"]] == ["playbook", "escalation", "contacts", "templates", "answers", "drill"]
    assert first["checks"][-1]["status"] == "fail" and first["checks"][-1]["fix"].startswith("run a drill")

    drilled = datetime.now(timezone.utc) - timedelta(days=3)
    asyncio.run(_record_drill(engine, first["playbook"], drilled, "closed"))
    asyncio.run(
        _record_drill(engine, first["playbook"], drilled + timedelta(days=1), "open")
    )  # a drill still running does not count yet
    first = client.get("/risks").json()["risks"][0]
    assert first["last_drill"] == drilled.date().isoformat()
    assert first["checks"][-1]["status"] == "pass" and first["checks"][-1]["detail"].startswith(
        f"last drill {drilled.date().isoformat()}"
    )
    asyncio.run(engine.dispose())


async def _record_drill(engine, playbook: str, at: datetime, status: str) -> None:
    async with session_factory(engine)() as session:
        session.add(
            IncidentRow(
                id=f"inc-{status}",
                title="Drill",
                playbook=playbook,
                scenario="misinformation",
                severity="SEV2",
                phase=status,
                status=status,
                drill=True,
                declared_at=at,
                updated_at=at,
                closed_at=at if status == "closed" else None,
                pending=[],
            )
        )
        await session.commit()


def test_readiness_shows_the_last_drill_from_the_database(tmp_path: Path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'crisis.db'}")
    asyncio.run(create_schema(engine))
    drilled = datetime.now(timezone.utc) - timedelta(days=2)
    asyncio.run(_record_drill(engine, "misinformation", drilled, "closed"))
    asyncio.run(engine.dispose())
    result = runner.invoke(
        app, ["readiness", str(SHIPPED), "--allow-undrilled"], env={"COLUMNS": "200", "CRISIS_DATA_DIR": str(tmp_path)}
    )
    assert result.exit_code == 0, result.output
    misinformation = [line for line in result.output.splitlines() if "misinformation" in line and "│" in line]
    assert misinformation and all(drilled.date().isoformat() in line for line in misinformation[:1])
    assert "never" in result.output  # the other playbooks were never drilled


def test_readiness_without_a_database_says_so_and_creates_none(tmp_path: Path):
    result = runner.invoke(
        app, ["readiness", str(SHIPPED), "--allow-undrilled"], env={"COLUMNS": "200", "CRISIS_DATA_DIR": str(tmp_path / "none")}
    )
    assert result.exit_code == 0, result.output
    assert "no drill records read (no database at" in result.output
    assert not (tmp_path / "none").exists()


def test_readiness_says_when_sendgrid_events_cannot_be_verified(tmp_path: Path):
    sendgrid = {
        "SENDGRID_API_KEY": "SG.abcdefghijkl.mnopqrstuvwxyz0123",
        "SENDGRID_FROM_EMAIL": "crisis@example.com",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'none.db'}",
    }
    unsigned = runner.invoke(app, ["readiness", str(SHIPPED), "--allow-undrilled"], env={"COLUMNS": "200", **sendgrid})
    assert unsigned.exit_code == 0, unsigned.output
    assert "SENDGRID_WEBHOOK_PUBLIC_KEY is not set: /webhooks/sendgrid/events refuses every event (403)" in unsigned.output
    from tests.fakes.providers import EventSigner

    signed = runner.invoke(
        app,
        ["readiness", str(SHIPPED)],
        env={"COLUMNS": "200", **sendgrid, "SENDGRID_WEBHOOK_PUBLIC_KEY": EventSigner().public_key},
    )
    assert "SENDGRID_WEBHOOK_PUBLIC_KEY" not in signed.output


def test_readiness_and_the_roster_check_say_who_cannot_be_reached_on_each_configured_channel(tmp_path: Path):
    folder = copy_fixtures(tmp_path / "playbooks")

    def reachable_in_part(data):
        data["people"][0]["slack"] = "U0EWA0001"
        data["people"][2]["phone"] = "+48123456"  # E.164 in form, not a dialable Polish number
        data["roles"]["incident_commander"]["escalation"]["levels"][2]["channels"] = ["call", "sms"]

    edit_yaml(folder / "team.yaml", reachable_in_part)
    env = {
        "COLUMNS": "250",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'none.db'}",
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "TWILIO_AUTH_TOKEN": "f" * 32,
        "TWILIO_MESSAGING_SERVICE_SID": "MG" + "2" * 32,
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s" * 32,
    }
    for command, code in ((["readiness", str(folder), "--allow-undrilled"], 1), (["playbooks", "check", str(folder)], 0)):
        result = runner.invoke(app, command, env=env)
        assert result.exit_code == code, result.output  # readiness: anna's phone fails the contacts of critical risks too
        output = " ".join(result.output.split())
        assert "incident_commander call people, but Twilio calls are not configured" in output  # a messaging service cannot call
        assert (
            "! sms: anna.kowalska cannot be reached: '+48123456' is not a valid number for its country (fix: correct"
            " people.2.phone in team.yaml)" in output
        )
        assert (
            "! slack: james.whitfield cannot be reached: no Slack member id (fix: add people.1.slack (U…) in team.yaml)" in output
        )
        assert "! slack: ewa.lewandowska" not in output and "! email:" not in output  # SendGrid is not configured


def test_without_providers_the_roster_check_says_everything_goes_to_the_outbox(tmp_path: Path):
    result = runner.invoke(app, ["playbooks", "check", str(SHIPPED)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "reachability: no provider is configured, every message goes to the outbox" in result.output
