"""Slack end to end: the real stack (``crisis dev``) talks to a loopback fake of Slack's Web API
through ``slack_sdk``; the test plays Slack's part when people type ``/crisis`` or press buttons,
posting the signed requests Slack would send. The commander declares with ``/crisis declare`` and
acknowledges her page from Slack; one approver requests changes through the modal, and both approve
the next version from Slack; the timeline says it was done via Slack, and the incident's channel
follows along."""

import json
import time

import httpx
import pytest
import yaml

from tests.driver import next_step
from tests.e2e.stack import DevStack, free_port, until, write_quick_playbooks
from tests.fakes.providers import FakeSlack, SlackSigner, block_action, view_submission

pytestmark = pytest.mark.e2e

TOKEN = "xoxb-e2e-crisisflow"
SECRET = "e2e-signing-secret-0123456789abcdef"
SLACK_IDS = {"ewa.lewandowska": "U0EWA0001", "jakub.mazur": "U0JAKUB01"}


def test_a_page_is_acknowledged_and_a_statement_approved_by_pressing_slack_buttons(tmp_path):
    playbooks = write_quick_playbooks(tmp_path / "playbooks", 120, page=("incident_commander", "engineering_on_call"))
    roster = yaml.safe_load((playbooks / "team.yaml").read_text())
    for person in roster["people"]:
        if person["id"] in SLACK_IDS:
            person["slack"] = SLACK_IDS[person["id"]]
    (playbooks / "team.yaml").write_text(yaml.safe_dump(roster, sort_keys=False, allow_unicode=True))
    api_port = free_port()
    signer = SlackSigner(SECRET)
    with FakeSlack(token=TOKEN) as slack:
        stack = DevStack(
            tmp_path / "data",
            {
                "CRISIS_PLAYBOOKS_DIR": str(playbooks),
                "CRISIS_PUBLIC_URL": f"http://127.0.0.1:{api_port}",
                "SLACK_BOT_TOKEN": TOKEN,
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": f"{slack.url}/api/",
                "SLACK_USER_SCOPES": json.dumps({SLACK_IDS["ewa.lewandowska"]: ["declare"]}),
            },
        )
        stack.api_port = api_port
        stack.start()
        try:
            api = stack.client()

            def press(user: str, action_id: str, message: dict) -> httpx.Response:
                button = next(e for e in message["blocks"][1]["elements"] if e["action_id"] == action_id)
                body, headers = signer.interactivity(
                    block_action(user, action_id, button["value"], "D" + user[1:], f"{time.time():.6f}")
                )
                return httpx.post(f"{stack.url}/webhooks/slack/interactivity", content=body, headers=headers, timeout=30)

            def timeline(incident_id: str) -> list[dict]:
                return api.get(f"/incidents/{incident_id}").json()["timeline"]

            def slack_post(path: str, signed: tuple[bytes, dict]) -> httpx.Response:
                return httpx.post(f"{stack.url}{path}", content=signed[0], headers=signed[1], timeout=30)

            answer = slack_post(
                "/webhooks/slack/commands", signer.command(SLACK_IDS["ewa.lewandowska"], "declare technical_outage Checkout down")
            )
            assert answer.status_code == 200 and answer.json()["response_type"] == "in_channel", answer.text
            incident = {"id": answer.json()["text"].split()[1]}
            declared = api.get(f"/incidents/{incident['id']}").json()
            assert declared["title"] == "Checkout down" and declared["playbook"] == "technical_outage"

            # The page arrives as a direct message with an Acknowledge button; the room is opened and Ewa invited.
            ewa = SLACK_IDS["ewa.lewandowska"]
            [page] = until(
                lambda: [m for m in slack.messages_to(ewa) if m["blocks"][1]["elements"][0]["action_id"] == "acknowledge"],
                what="the page in Slack",
            )
            [room] = until(lambda: list(slack.channels), what="the incident's channel")
            assert slack.channels[room]["name"] == f"{incident['id']}-technical-outage"
            until(lambda: ewa in slack.channels[room]["members"], what="Ewa invited to the channel")

            assert press(ewa, "acknowledge", page).status_code == 200
            acknowledged = until(
                lambda: [e for e in timeline(incident["id"]) if e["kind"] == "acknowledged"], what="the acknowledgement"
            )
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
                if step and step.update not in ("resolve", "decide_statement"):
                    api.post(f"/incidents/{incident['id']}/{step.path}", json=step.body)
                else:
                    time.sleep(0.1)
            # Ewa asks for changes through the modal; the author submits v2 (by API).
            first = approvals[0]["version"]
            request = until(
                lambda: [m for m in slack.messages_to(ewa) if m["blocks"][1]["elements"][0]["action_id"] == "approve"],
                what="the first approval request",
            )[-1]
            assert press(ewa, "request_changes", request).status_code == 200
            [opened] = until(lambda: slack.calls("views.open"), what="the change-request modal")
            modal = json.loads(opened["view"])
            assert modal["callback_id"] == "request_changes"
            comment = {"comment": {"comment": {"type": "plain_text_input", "value": "Say when orders will work again."}}}
            submitted = slack_post(
                "/webhooks/slack/interactivity",
                signer.interactivity(view_submission(ewa, "request_changes", modal["private_metadata"], comment)),
            )
            assert submitted.status_code == 200 and submitted.text == "", submitted.text
            rejected = until(
                lambda: [e for e in timeline(incident["id"]) if e["kind"] == "statement_rejected"], what="the change request"
            )
            assert (
                rejected[0]["actor"] == "ewa.lewandowska"
                and rejected[0]["via"] == "Slack"
                and "Say when orders will work again" in rejected[0]["message"]
            )
            for _ in range(600):
                state = api.get(f"/incidents/{incident['id']}").json()
                approvals = [p for p in state["pending"] if p["kind"] == "approval" and p["version"] > first]
                if approvals:
                    break
                step = next_step(state)
                if step and step.update not in ("resolve", "decide_statement"):
                    api.post(f"/incidents/{incident['id']}/{step.path}", json=step.body)
                else:
                    time.sleep(0.1)
            version = approvals[0]["version"]
            for person, user in SLACK_IDS.items():
                request = until(
                    lambda user=user: [
                        m
                        for m in slack.messages_to(user)
                        if m["blocks"][1]["elements"][0]["action_id"] == "approve" and f"v{version}" in m["text"]
                    ],
                    what=f"the approval request of v{version} to {person}",
                )[-1]
                assert f"v{version}" in request["text"]
                assert press(user, "approve", request).status_code == 200

            published = until(
                lambda: [e for e in timeline(incident["id"]) if e["kind"] == "statement_published"],
                seconds=60,
                what="publication",
            )
            approvals_by = [(e["actor"], e["via"]) for e in timeline(incident["id"]) if e["kind"] == "statement_approved_by"]
            assert sorted(approvals_by) == [("ewa.lewandowska", "Slack"), ("jakub.mazur", "Slack")]
            assert published
            room_lines = lambda: [m["text"] for m in slack.messages_to(room)]  # noqa: E731
            until(lambda: any("published" in line for line in room_lines()), what="the publication in the channel")
            assert any(line.startswith("Phase:") or "phase" in line.lower() for line in room_lines())

            # Driven to its close (by API), the incident leaves the report's link in its channel, which is then archived.
            for _ in range(900):
                state = api.get(f"/incidents/{incident['id']}").json()
                if state["status"] == "closed":
                    break
                step = next_step(state)
                if step:
                    api.post(f"/incidents/{incident['id']}/{step.path}", json=step.body)
                else:
                    time.sleep(0.1)
            until(lambda: slack.channels[room]["archived"], seconds=60, what="the channel archived")
            assert (
                room_lines()[-1] == f"The incident is closed. Post-incident report: {stack.url}/incidents/{incident['id']}/report"
            )

            # The shortcut: a form with the playbooks, then a declaration for a user with the scope only.
            shortcut = {
                "type": "shortcut",
                "callback_id": "declare_incident",
                "trigger_id": "111.222.abc",
                "user": {"id": ewa},
                "team": {"id": "T0001"},
            }
            assert slack_post("/webhooks/slack/interactivity", signer.interactivity(shortcut)).status_code == 200
            form = json.loads(slack.calls("views.open")[-1]["view"])
            assert form["callback_id"] == "declare_incident"
            assert "technical_outage" in [o["value"] for o in form["blocks"][0]["element"]["options"]]
            values = {
                "playbook": {"playbook": {"type": "static_select", "selected_option": {"value": "technical_outage"}}},
                "title": {"title": {"type": "plain_text_input", "value": "Payments slow"}},
            }
            jakub = SLACK_IDS["jakub.mazur"]
            refused = slack_post(
                "/webhooks/slack/interactivity", signer.interactivity(view_submission(jakub, "declare_incident", "", values))
            )
            assert refused.json()["response_action"] == "errors" and "declare scope" in refused.json()["errors"]["title"]
            accepted = slack_post(
                "/webhooks/slack/interactivity", signer.interactivity(view_submission(ewa, "declare_incident", "", values))
            )
            assert accepted.status_code == 200 and accepted.text == ""
            until(
                lambda: any(i["title"] == "Payments slow" for i in api.get("/incidents").json()), what="the shortcut's incident"
            )
        finally:
            stack.stop()
