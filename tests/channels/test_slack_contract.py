"""Contract tests for Slack: every Web API call crisisflow makes, sent by the real ``slack_sdk``, must
be one Slack's own Web API description (tests/specs/slack_web_api_v2.json) accepts, served by Prism.

Prism runs here without ``--errors``: with it, Prism also checks the answers it makes up from the
description against the description's own patterns (``ts`` like ``1700000000.000100``, ids like
``C…``) and fails them, whatever was asked. Without it, a request that breaks the description is
still refused (401 without credentials, 4xx naming the violation) and a good one gets 200 ``ok``.

The description declares the bot token as a ``token`` header, where Slack's SDK and documentation
send ``Authorization: Bearer``; the SDK is given both here (``headers``), and the production client
sends the standard one only.
"""

import json

import httpx
import pytest

from channels.base import ChatKind, OutgoingMessage, PermanentDeliveryError
from channels.slack import SlackApi, SlackChannel, changes_modal, declare_modal
from tests.channels.test_contract import SPECS, Prism, start_prism, wait_ready

TOKEN = "xoxb-1234-5678-crisisflow"
CHANNEL = "C0123456789"
USER = "U0EWA0001"
TS = "1765000000.000100"


@pytest.fixture(scope="module")
def slack_mock(tmp_path_factory):
    prism = start_prism(SPECS / "slack_web_api_v2.json", tmp_path_factory.mktemp("prism") / "slack.log", errors=False)
    try:
        wait_ready(prism)
        yield prism
    finally:
        prism.process.terminate()
        prism.process.wait(timeout=10)


def api(prism: Prism) -> SlackApi:
    return SlackApi(TOKEN, f"{prism.url}/", timeout=30, headers={"token": TOKEN})


def message(kind: str, address: str | None = CHANNEL, **fields) -> OutgoingMessage:
    values = {
        "ledger_key": f"inc-c/{kind}/slack",
        "incident_id": "inc-c",
        "person_id": None,
        "kind": kind,
        "channel": ChatKind.SLACK,
        "address": address,
        "subject": "inc-c-account-compromise",
        "body": "Phase: assess",
    }
    return OutgoingMessage(**(values | fields))


@pytest.mark.parametrize(
    ("kind", "address", "fields"),
    [
        ("chat.open", None, {}),
        ("chat.invite", CHANNEL, {"body": USER}),
        ("chat.event", CHANNEL, {}),
        ("chat.archive", CHANNEL, {}),
        ("page", USER, {"subject": "SEV1 crisis: Hijacked", "body": "You are paged.", "action": "tok"}),
        ("approval", USER, {"subject": "Approve statement v2", "body": "The text.", "action": "tok"}),
    ],
)
async def test_each_message_matches_slacks_web_api_description(slack_mock, kind, address, fields):
    delivery = await SlackChannel(api(slack_mock)).send(message(kind, address, **fields))
    assert delivery.accepted, slack_mock.said()


async def test_the_pinned_summary_matches_slacks_web_api_description(slack_mock):
    slack = api(slack_mock)
    posted = await slack.call(
        "chat.postMessage",
        channel=CHANNEL,
        text="SEV1 Hijacked",
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}],
    )
    assert posted["ok"] is True
    assert (await slack.call("pins.add", channel=CHANNEL, timestamp=TS))["ok"] is True


async def test_the_answers_to_a_button_match_slacks_web_api_description(slack_mock):
    slack = api(slack_mock)
    assert (await slack.call("chat.update", channel=CHANNEL, ts=TS, text="Acknowledged", blocks=[]))["ok"] is True
    assert (await slack.call("chat.postEphemeral", channel=CHANNEL, user=USER, text="Only Ewa can act on it."))["ok"] is True
    modal = changes_modal(json.dumps({"token": "tok", "channel": CHANNEL, "ts": TS}), "Statement v2: what should change?")
    assert (await slack.call("views.open", get=True, trigger_id="12345.98765.abcd2358fdea", view=modal))["ok"] is True
    declare = declare_modal([("account_compromise", "Account compromise")])
    assert (await slack.call("views.open", get=True, trigger_id="12345.98765.abcd2358fdea", view=declare))["ok"] is True


async def test_the_mock_does_refuse_what_breaks_slacks_description(slack_mock):
    with pytest.raises(PermanentDeliveryError):
        await api(slack_mock).call("chat.postMessage", text="no channel")
    with pytest.raises(PermanentDeliveryError):
        await api(slack_mock).call("views.open", trigger_id="1.2.3")  # a POST where the description has a GET
    unauthenticated = httpx.post(f"{slack_mock.url}/chat.postMessage", data={"channel": CHANNEL, "text": "x"})
    assert unauthenticated.status_code == 401
