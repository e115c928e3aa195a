"""`crisis readiness` and `crisis playbooks check` on the risk register (typer's CliRunner, no server)."""

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api import risks
from api.main import create_app
from api.settings import Settings
from cli import app
from domain.catalog import CatalogError, load_catalog
from tests.unit.conftest import SHIPPED, copy_shipped, edit_yaml

runner = CliRunner()


def test_readiness_of_the_shipped_folder_passes_and_prints_the_table():
    result = runner.invoke(app, ["readiness", str(SHIPPED)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "False contamination or health rumour" in result.output
    assert "critical 4×5=20" in result.output
    assert "never drilled" in result.output
    assert "10 of 10 risks ready; readiness 100%" in result.output


def test_readiness_fails_when_a_critical_risk_is_not_ready(tmp_path: Path):
    folder = copy_shipped(tmp_path / "playbooks")

    def one_legal(data):
        data["roles"]["legal"]["escalation"] = ["katarzyna.wisniewska"]
        data["people"][8]["roles"] = ["executive_sponsor"]  # daniel.reyes leaves legal
        data["roles"]["executive_sponsor"]["escalation"].append("daniel.reyes")

    edit_yaml(folder / "team.yaml", one_legal)
    result = runner.invoke(app, ["readiness", str(folder)], env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    assert "add a second person to roles.legal.escalation in team.yaml" in result.output
    assert "critical risk(s) not ready: health_rumour, instagram_hijack" in result.output


def test_require_drills_turns_never_drilled_into_a_failure():
    result = runner.invoke(app, ["readiness", str(SHIPPED), "--require-drills"], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "critical risk(s) not ready: health_rumour, instagram_hijack" in result.output


def test_readiness_without_a_register_says_so(tmp_path: Path):
    folder = copy_shipped(tmp_path / "playbooks", only=("misinformation",))
    result = runner.invoke(app, ["readiness", str(folder)])
    assert result.exit_code == 0
    assert "no risks.yaml" in result.output


def test_playbooks_check_reports_a_bad_register_as_file_path_reason(tmp_path: Path):
    folder = copy_shipped(tmp_path / "playbooks")

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
    folder = copy_shipped(tmp_path / "playbooks")
    edit_yaml(folder / "risks.yaml", lambda data: data["risks"][0].update(scenario="alien_invasion"))
    with pytest.raises(CatalogError) as info:
        create_app(Settings(playbooks_dir=folder, data_dir=tmp_path / "var"))
    assert str(info.value).startswith(f"{folder}/risks.yaml:risks.0.scenario: Input should be")


def test_the_api_serves_the_register_as_json():
    api = FastAPI()
    api.state.catalog = load_catalog(SHIPPED)
    api.include_router(risks.router)
    body = TestClient(api).get("/risks").json()
    assert (body["organization"], body["total"], body["ready"], body["blocking"]) == ("Northwind Coffee", 10, 10, [])
    first = body["risks"][0]
    assert (first["priority"], first["band"], first["drill_every"], first["last_drill"]) == (20, "critical", "90d", None)
    assert [c["name"] for c in first["checks"]] == ["playbook", "escalation", "contacts", "templates", "answers", "drill"]
    assert first["checks"][-1]["status"] == "warn" and first["checks"][-1]["fix"].startswith("run a drill")
