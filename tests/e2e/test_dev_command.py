"""``crisis dev`` and the CLI as an operator meets them: restart, taken ports, bad playbooks."""

import json
import shutil
import socket
import subprocess
import time

import httpx
import pytest
import yaml

import devstack
from tests.conftest import PROJECT
from tests.e2e.stack import BIN, DevStack, children, until, write_quick_playbooks

pytestmark = pytest.mark.e2e


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


ESCALATION_WAIT = 3  # seconds; technical_outage escalates this fast in the restart test


def test_restart_keeps_incidents_and_they_continue(tmp_path):
    playbooks = write_quick_playbooks(tmp_path / "playbooks", ESCALATION_WAIT)
    stack = DevStack(
        tmp_path / "data", {"CRISIS_PLAYBOOKS_DIR": str(playbooks)}, api_key=None
    )  # as `make dev` without CRISIS_API_KEY
    commander = "ewa.lewandowska"

    def pages_to(http, incident: str, person: str) -> list[dict]:
        return [
            m
            for m in http.get("/outbox", params={"incident": incident}).json()
            if m["kind"] == "page" and m["person_id"] == person
        ]

    stack.start()
    try:
        key_file = stack.data_dir / "dev-api-key"
        assert key_file.stat().st_mode & 0o777 == 0o600
        first_key = stack.key
        # Printed once the API has started, which /readyz can answer a moment before.
        announced = f"API key      {first_key} (admin; kept in {key_file.resolve()})"
        until(lambda: announced in stack.log.read_text(), seconds=10, what="the API key announced")
        with stack.client() as http:
            incident = http.post(
                "/incidents",
                json={
                    "playbook": "misinformation",
                    "title": "Fake recall rumour",
                    "summary": "A fake recall notice is circulating.",
                },
            ).json()
            assert http.post(f"/incidents/{incident['id']}/acknowledge", json={"person": commander}).status_code == 200
            escalating = http.post(
                "/incidents", json={"playbook": "technical_outage", "title": "Checkout down", "summary": "Orders fail."}
            ).json()["id"]
            until(lambda: pages_to(http, escalating, commander), what="level 1 paged")
            stopped_at = time.monotonic()
    finally:
        assert stack.stop() == 0
    assert not _port_open(stack.temporal_port) and not _port_open(stack.api_port)
    assert (stack.data_dir / "temporal.db").exists() and (stack.data_dir / "crisis.db").exists()
    time.sleep(max(0.0, ESCALATION_WAIT + 1 - (time.monotonic() - stopped_at)))  # level 2 falls due while everything is down

    stack.start()
    try:
        assert stack.key == first_key  # the same key after a restart
        with stack.client() as http:
            state = http.get(f"/incidents/{incident['id']}").json()
            assert state["phase"] == "assess"
            assessed = http.post(f"/incidents/{incident['id']}/assessment", json={"person": commander, "severity": "SEV2"})
            assert assessed.status_code == 200 and assessed.json()["severity"] == "SEV2"
            until(lambda: pages_to(http, escalating, "james.whitfield"), what="level 2 paged once the stack is back")
            assert (
                http.post(f"/incidents/{escalating}/acknowledge", json={"person": "james.whitfield"}).json()["phase"] == "assess"
            )
            listed = http.get("/incidents").json()
            assert sorted(i["id"] for i in listed) == sorted([incident["id"], escalating])
            assert len(pages_to(http, escalating, commander)) == 2  # SMS and email, each sent once
        assert httpx.get(f"{stack.url}/incidents", timeout=30).status_code == 401
    finally:
        assert stack.stop() == 0


def test_a_taken_port_is_named_and_nothing_starts(tmp_path):
    stack = DevStack(tmp_path / "data")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", stack.api_port))
        squatter.listen()
        result = subprocess.run([str(BIN / "crisis"), "dev"], env=stack.env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert f"port {stack.api_port} (CRISIS_API_PORT) is already in use" in result.stderr.replace("\n", " ")
    assert not _port_open(stack.temporal_port)


def test_the_api_and_ui_ports_are_held_before_the_temporal_dev_server_starts(tmp_path):
    """The dev server picks its own UI, HTTP and metrics ports free as it starts, so a configured
    port that crisis dev had not bound yet could become one of them (on CI the dev server's own UI
    got the API's port: /readyz said 200, the declaration 405). Both ports are crisis dev's before
    the dev server exists, and stay its own."""
    stack = DevStack(tmp_path / "data")
    stack.launch()
    try:
        until(lambda: children(stack.process.pid), seconds=60, what="the Temporal dev server started")
        assert devstack.port_holders(stack.api_port) == [stack.process.pid]
        assert devstack.port_holders(stack.ui_port) == [stack.process.pid]
        stack.wait_ready()
        assert devstack.port_holders(stack.api_port) == [stack.process.pid]
        with stack.client() as http:
            assert http.get("/incidents").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{stack.ui_port}/api/v1/settings", timeout=30).status_code == 200
    finally:
        assert stack.stop() == 0
    assert not _port_open(stack.api_port) and not _port_open(stack.ui_port)


@pytest.fixture
def broken_playbooks(tmp_path):
    folder = tmp_path / "playbooks"
    shutil.copytree(PROJECT / "playbooks", folder)
    book = yaml.safe_load((folder / "technical_outage.yaml").read_text())
    book["respond"]["tasks"][0]["due_after"] = "soon"
    book["respond"]["tasks"][1]["owner"] = "janitor"
    (folder / "technical_outage.yaml").write_text(yaml.safe_dump(book))
    return folder


def test_playbooks_check_prints_every_problem_and_fails(broken_playbooks):
    result = subprocess.run(
        [str(BIN / "crisis"), "playbooks", "check", str(broken_playbooks)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert (
        f"{broken_playbooks / 'technical_outage.yaml'}:respond.tasks.0.due_after: 'soon' is not a duration; write it as 90s, 5m,"
        " 2h or 3d" in lines
    )


def test_playbooks_check_passes_on_the_shipped_folder():
    result = subprocess.run([str(BIN / "crisis"), "playbooks", "check"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "all valid" in result.stdout


def test_dev_refuses_an_invalid_playbook_folder(broken_playbooks, tmp_path):
    stack = DevStack(tmp_path / "data")
    env = {**stack.env, "CRISIS_PLAYBOOKS_DIR": str(broken_playbooks)}
    result = subprocess.run([str(BIN / "crisis"), "dev"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"{broken_playbooks / 'technical_outage.yaml'}:respond.tasks.0.due_after:" in result.stderr
    assert not _port_open(stack.temporal_port)


def test_playbook_schema_is_json_schema():
    result = subprocess.run([str(BIN / "crisis"), "playbooks", "schema"], capture_output=True, text=True, timeout=60)
    schema = json.loads(result.stdout)
    assert schema["title"] == "Playbook" and "respond" in schema["properties"]


def test_cli_declares_and_lists_through_the_api(stack):
    declared = subprocess.run(
        [
            str(BIN / "crisis"),
            "declare",
            "controversial_post",
            "--title",
            "Tone-deaf holiday post",
            "--summary",
            "A scheduled post offended many.",
            "--severity",
            "SEV3",
            "--json",
            "--url",
            stack.url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=stack.env,
    )
    assert declared.returncode == 0, declared.stderr
    incident = json.loads(declared.stdout)
    assert incident["severity"] == "SEV3" and incident["phase"] == "identify"
    for _ in range(50):
        listed = subprocess.run(
            [str(BIN / "crisis"), "ls", "--url", stack.url], capture_output=True, text=True, timeout=60, env=stack.env
        )
        if incident["id"] in listed.stdout:
            break
        time.sleep(0.1)
    assert incident["id"] in listed.stdout and "Tone-deaf holiday post" in listed.stdout


def test_cli_declare_shows_the_api_refusal(stack):
    refused = subprocess.run(
        [str(BIN / "crisis"), "declare", "alien_invasion", "--title", "x", "--summary", "y", "--url", stack.url],
        capture_output=True,
        text=True,
        timeout=60,
        env=stack.env,
    )
    assert refused.returncode == 1
    assert "422" in refused.stderr and "alien_invasion" in refused.stderr
