"""Slack end to end: the real stack (``crisis dev``) talks to a loopback fake of Slack's Web API
through ``slack_sdk``; the test plays Slack's part when people press buttons, posting the signed
interactivity payloads Slack would send. The commander acknowledges her page from Slack, and both
approvers approve the statement from Slack; the timeline says it was done via Slack, and the
incident's channel follows along."""

import time

import httpx
import pytest
import yaml

from tests.driver import next_step
from tests.e2e.stack import DevStack, free_port, until, write_quick_playbooks
from tests.fakes.providers import FakeSlack, SlackSigner, block_action

pytestmark = pytest.mark.e2e

TOKEN = "xoxb-e2e-crisisflow"
SECRET = "e2e-signing-secret-0123456789abcdef"
SLACK_IDS = {"ewa.lewandowska": "U0EWA0001", "jakub.mazur": "U0JAKUB01"}


def test_a_page_is_acknowledged_and_a_statement_approved_by_pressing_slack_buttons(tmp_path):
    playbooks = write_quick_playbooks(tmp_path / "playbooks", 120)
    roster = yaml.safe_load((playbooks / "team.yaml").read_text())
    for person in roster["people"]:
        if person["id"] in SLACK_IDS:
            person["slack"] = SLACK_IDS[person["id"]]
    (playbooks / "team.yaml").write_text(yaml.safe_dump(roster, sort_keys=False, allow_unicode=True))
    book = yaml.safe_load((playbooks / "technical_outage.yaml").read_text())
    book["identify"]["page"] = ["incident_commander", "engineering_on_call"]  # every approver role is paged
    (playbooks / "technical_outage.yaml").write_text(yaml.safe_dump(book, allow_unicode=True))
    api_port = free_port()
    signer = SlackSigner(SECRET)
    with FakeSlack(token=TOKEN) as slack:
        stack = DevStack(tmp_path / "data", {
            "CRISIS_PLAYBOOKS_DIR": str(playbooks), "CRISIS_PUBLIC_URL": f"http://127.0.0.1:{api_port}",
            "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": f"{slack.url}/api/",
        })
        stack.api_port = api_port
        stack.start()
        try:
            api = stack.client()

            def press(user: str, action_id: str, message: dict) -> httpx.Response:
                button = next(e for e in message["blocks"][1]["elements"] if e["action_id"] == action_id)
                body, headers = signer.interactivity(block_action(user, action_id, button["value"], "D" + user[1:], f"{time.time():.6f}"))
                return httpx.post(f"{stack.url}/webhooks/slack/interactivity", content=body, headers=headers, timeout=30)

            def timeline(incident_id: str) -> list[dict]:
                return api.get(f"/incidents/{incident_id}").json()["timeline"]

            incident = api.post("/incidents", json={"playbook": "technical_outage", "title": "Checkout down", "summary": "Orders fail.",
                                                   "severity": "SEV2"}).json()

            # The page arrives as a direct message with an Acknowledge button; the room is opened and Ewa invited.
            ewa = SLACK_IDS["ewa.lewandowska"]
            [page] = until(lambda: [m for m in slack.messages_to(ewa) if m["blocks"][1]["elements"][0]["action_id"] == "acknowledge"],
                           what="the page in Slack")
            [room] = until(lambda: list(slack.channels), what="the incident's channel")
            assert slack.channels[room]["name"] == f"{incident['id']}-technical-outage"
            until(lambda: ewa in slack.channels[room]["members"], what="Ewa invited to the channel")

            assert press(ewa, "acknowledge", page).status_code == 200
            acknowledged = until(lambda: [e for e in timeline(incident["id"]) if e["kind"] == "acknowledged"], what="the acknowledgement")
            assert acknowledged[0]["actor"] == "ewa.lewandowska" and acknowledged[0]["via"] == "Slack"
            until(lambda: slack.calls("chat.update"), what="the page's buttons replaced")
            assert "acknowledged" in slack.calls("chat.update")[0]["text"]
            assert press(ewa, "acknowledge", page).status_code == 200  # pressed again: told privately it was used
            assert "already used" in until(lambda: slack.calls("chat.postEphemeral"), what="the second press answered")[0]["text"]

            # Drive the incident (by API) to the statement's approval, then approve it from Slack.
            for _ in range(600):
                state = api.get(f"/incidents/{incident['id']}").json()
                approvals = [p for p in state["pending"] if p["kind"] == "approval"]
                if approvals:
                    break
                step = next_step(state)
                if step and step.update not in ("resolve", "decide"):
                    api.post(f"/incidents/{incident['id']}/{step.path}", json=step.body)
                else:
                    time.sleep(0.1)
            version = approvals[0]["version"]
            for person, user in SLACK_IDS.items():
                request = until(lambda user=user: [m for m in slack.messages_to(user) if m["blocks"][1]["elements"][0]["action_id"] == "approve"],
                                what=f"the approval request to {person}")[-1]
                assert f"v{version}" in request["text"]
                assert press(user, "approve", request).status_code == 200

            published = until(lambda: [e for e in timeline(incident["id"]) if e["kind"] == "statement_published"], seconds=60, what="publication")
            approvals_by = [(e["actor"], e["via"]) for e in timeline(incident["id"]) if e["kind"] == "statement_approved_by"]
            assert sorted(approvals_by) == [("ewa.lewandowska", "Slack"), ("jakub.mazur", "Slack")]
            assert published
            room_lines = lambda: [m["text"] for m in slack.messages_to(room)]  # noqa: E731
            until(lambda: any("published" in line for line in room_lines()), what="the publication in the channel")
            assert any(line.startswith("Phase:") or "phase" in line.lower() for line in room_lines())
        finally:
            stack.stop()
