"""Paging for real, end to end: the stack sends through the official Twilio and SendGrid SDKs to
loopback fakes of their APIs; nobody answers, so level 2 is paged; an ``ACK`` SMS reply from the
level-2 commander stops the chain and the level-1 commander hears who took it."""

import time

import httpx
import pytest
import yaml
from twilio.request_validator import RequestValidator

from tests.e2e.stack import DevStack, free_port, until, write_quick_playbooks
from tests.fakes.providers import FakeSendGrid, FakeTwilio

pytestmark = pytest.mark.e2e

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "f" * 32
API_KEY = "SG.test-key.secret"
WAIT = 4  # seconds per escalation level in the test playbook


@pytest.fixture
def quick_playbooks(tmp_path):
    return write_quick_playbooks(tmp_path / "playbooks", WAIT)


def test_no_answer_escalates_and_an_ack_reply_stops_the_chain(tmp_path, quick_playbooks):
    roster = yaml.safe_load((quick_playbooks / "team.yaml").read_text())
    phone = {p["id"]: p["phone"] for p in roster["people"]}
    email = {p["id"]: p["email"] for p in roster["people"]}
    api_port = free_port()
    with FakeTwilio(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID) as twilio, FakeSendGrid(api_key=API_KEY) as sendgrid:
        stack = DevStack(
            tmp_path / "data",
            {
                "CRISIS_PLAYBOOKS_DIR": str(quick_playbooks),
                "CRISIS_PUBLIC_URL": f"http://127.0.0.1:{api_port}",
                "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "TWILIO_FROM_NUMBER": "+15005550006",
                "TWILIO_API_URL": twilio.url,
                "SENDGRID_API_KEY": API_KEY,
                "SENDGRID_FROM_EMAIL": "crisis@northwind.example",
                "SENDGRID_API_URL": sendgrid.url,
            },
        )
        stack.api_port = api_port
        stack.start()
        try:
            api = stack.client()
            incident = api.post(
                "/incidents",
                json={"playbook": "technical_outage", "title": "Checkout down", "summary": "Orders fail.", "severity": "SEV2"},
            ).json()

            def sms_to(person):
                return [r.form for r in twilio.accepted if r.form.get("To") == phone[person]]

            def email_to(person):
                return [r.json for r in sendgrid.accepted if r.json["personalizations"][0]["to"][0]["email"] == email[person]]

            until(lambda: sms_to("ewa.lewandowska") and email_to("ewa.lewandowska"), what="level 1 page by SMS and email")
            first_sms = sms_to("ewa.lewandowska")[0]
            assert len(first_sms["Body"]) <= 160 and "Reply ACK " in first_sms["Body"] and "/a/" in first_sms["Body"]
            assert first_sms["StatusCallback"] == f"{stack.url}/webhooks/twilio/status"
            assert not sms_to("james.whitfield")

            until(lambda: sms_to("james.whitfield"), seconds=WAIT + 20, what="level 2 page after the wait")

            def escalation_recorded() -> bool:  # once the page's activity is done (its email may still be going out)
                timeline = api.get(f"/incidents/{incident['id']}").json()["timeline"]
                return any(e["message"].startswith("Escalated to james.whitfield (incident_commander, level 2") for e in timeline)

            until(escalation_recorded, what="the escalation in the timeline")

            url = f"{stack.url}/webhooks/twilio/sms"

            sids = iter(range(1, 100))

            def send_reply(sender: str, body: str, sid: str | None = None) -> httpx.Response:
                form = {"From": sender, "To": "+15005550006", "Body": body, "MessageSid": sid or f"SM{next(sids):032x}"}
                signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
                return httpx.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=30)

            reply = {"From": phone["james.whitfield"], "To": "+15005550006", "Body": "ack", "MessageSid": "SM" + "2" * 32}
            forged = httpx.post(url, data=reply, headers={"X-Twilio-Signature": "forged"}, timeout=30)
            assert forged.status_code == 403
            assert send_reply("+48999999999", "ACK").status_code == 403
            chatter = send_reply(phone["james.whitfield"], "on my way")
            assert chatter.status_code == 200 and "Reply ACK to acknowledge" in chatter.text
            own_code = sms_to("james.whitfield")[0]["Body"].split("Reply ACK ")[1][:4]
            other_code = f"{(int(own_code) + 1) % 10000:04d}"
            assert "No open page with code" in send_reply(phone["james.whitfield"], f"ACK {other_code}").text
            assert api.get(f"/incidents/{incident['id']}").json()["phase"] == "identify"
            answered = send_reply(phone["james.whitfield"], "ack", sid="SM" + "2" * 32)
            assert answered.status_code == 200 and "<Response><Message>Acknowledged" in answered.text
            assert (
                send_reply(phone["james.whitfield"], "ack", sid="SM" + "2" * 32).status_code == 409
            )  # the same message replayed
            assert "No open page for you" in send_reply(phone["james.whitfield"], "ack").text  # a second ACK does nothing

            state = api.get(f"/incidents/{incident['id']}").json()
            assert state["phase"] == "assess"
            ack = next(a for a in state["acknowledgements"] if a["role"] == "incident_commander")
            assert ack["acknowledged_by"] == "james.whitfield"

            until(
                lambda: [m for m in sms_to("ewa.lewandowska") if "james.whitfield took it" in m["Body"]],
                what="level 1 told who took it",
            )
            time.sleep(WAIT + 2)
            executive_pages = [r for r in twilio.accepted if r.form.get("To") in {phone["sarah.collins"]}]
            assert executive_pages == [], "the chain must stop at the acknowledgement"
        finally:
            assert stack.stop() == 0
