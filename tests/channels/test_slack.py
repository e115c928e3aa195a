"""Slack: the channel with the real ``slack_sdk`` against a loopback fake of the Web API, the incident's
room mirrored by the projection activity, and the requests Slack sends (signed here as Slack signs
them): forged, stale, replayed and unsigned ones are refused, and people who may not act are told
why, privately. Pressing buttons that act on a workflow is tested end to end
(tests/e2e/test_slack_end_to_end.py)."""

import json
import shutil
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest
import pytest_asyncio
from temporalio.testing import ActivityEnvironment

from activities.models import IncidentSummary, Projection
from channels.base import ChatKind, OutgoingMessage, PermanentDeliveryError, TransientDeliveryError
from channels.dispatch import Dispatcher
from channels.registry import build_chats, chat_choices
from channels.slack import SlackApi, SlackChannel, SlackVerifier, channel_name, slack_signature
from domain.incident import TimelineEvent
from domain.messages import Notice
from store import tokens
from tests.channels.conftest import EWA, PUBLIC_URL, activity_info, make_activities, provider_settings, running, set_contact
from tests.fakes.providers import FakeSlack, SlackSigner, block_action, view_submission

TOKEN = "xoxb-1-2-crisisflow-tests"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
EWA_SLACK, JAMES_SLACK, STRANGER = "U0EWA0001", "U0JAMES01", "U0NOBODY1"


@pytest.fixture(scope="module")
def slack_server():
    with FakeSlack(token=TOKEN) as fake:
        yield fake


@pytest.fixture
def slack(slack_server):
    slack_server.reset()
    yield slack_server


def slack_channel(fake: FakeSlack) -> SlackChannel:
    return SlackChannel(SlackApi(TOKEN, f"{fake.url}/api/", timeout=5))


def message(kind: str, address: str | None, **fields) -> OutgoingMessage:
    values = {
        "ledger_key": f"inc-s/{kind}/slack",
        "incident_id": "inc-s",
        "person_id": None,
        "kind": kind,
        "channel": ChatKind.SLACK,
        "address": address,
        "subject": "",
        "body": "",
    }
    return OutgoingMessage(**(values | fields))


def test_the_channel_name_comes_from_the_incident_id_and_scenario():
    assert channel_name("inc-0123456789abcdef", "account_compromise", drill=False) == "inc-0123456789abcdef-account-compromise"
    assert channel_name("inc-0123456789abcdef", "technical_outage", drill=True) == "drill-inc-0123456789abcdef-technical-outage"


async def test_a_page_is_a_direct_message_whose_button_carries_the_token(slack):
    delivery = await slack_channel(slack).send(
        message("page", EWA_SLACK, subject="SEV1 crisis: Hijacked", body="You are paged.", action="tok-123")
    )
    [posted] = slack.messages_to(EWA_SLACK)
    assert posted["text"].startswith("SEV1 crisis: Hijacked") and slack.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert slack.requests[0].headers["content-type"].startswith("application/x-www-form-urlencoded")
    [button] = posted["blocks"][1]["elements"]
    assert (button["action_id"], button["value"], button["text"]["text"]) == ("acknowledge", "tok-123", "Acknowledge")
    assert delivery.accepted and delivery.provider_id.startswith(f"D{EWA_SLACK[1:]}/")


async def test_an_approval_request_has_approve_and_request_changes(slack):
    await slack_channel(slack).send(
        message("approval", EWA_SLACK, subject="Approve statement v2", body="The text.", action="tok-9")
    )
    buttons = slack.messages_to(EWA_SLACK)[0]["blocks"][1]["elements"]
    assert [(b["action_id"], b["value"]) for b in buttons] == [("approve", "tok-9"), ("request_changes", "tok-9")]


async def test_slack_errors_are_permanent_or_worth_a_retry(slack):
    with pytest.raises(PermanentDeliveryError, match="invalid_auth"):
        await SlackChannel(SlackApi("xoxb-wrong", f"{slack.url}/api/", timeout=5)).send(message("chat.event", "C1", body="x"))
    with pytest.raises(PermanentDeliveryError, match="channel_not_found"):
        await slack_channel(slack).send(message("chat.event", "C1", body="x"))
    slack.fail(times=1, status=429)
    with pytest.raises(TransientDeliveryError):
        await slack_channel(slack).send(message("chat.event", "C1", body="x"))


def summary(status: str = "open", phase: str = "identify") -> IncidentSummary:
    now = datetime(2026, 12, 6, 3, 0, tzinfo=timezone.utc)
    return IncidentSummary(
        id="inc-room",
        title="Instagram account hijacked",
        playbook="account_compromise",
        scenario="account_compromise",
        severity="SEV1",
        phase=phase,
        status=status,
        drill=False,
        declared_at=now,
        updated_at=now,
        closed_at=None,
        pending=[],
        projected_seq=3,
    )


def event(seq: int, kind: str, message_text: str, **data) -> TimelineEvent:
    return TimelineEvent(
        seq=seq, at=datetime(2026, 12, 6, 3, seq, tzinfo=timezone.utc), kind=kind, message=message_text, data=data
    )


async def test_the_incident_room_opens_invites_the_paged_posts_events_and_archives_at_close(
    tmp_path, sessions, roster_dir, slack
):
    set_contact(roster_dir, EWA, slack=EWA_SLACK)
    settings = provider_settings(tmp_path)
    activities = make_activities(settings, sessions, roster_dir)
    activities._chat.__init__(sessions, {ChatKind.SLACK: slack_channel(slack)}, activities._roster, PUBLIC_URL)
    record = activity_info(ActivityEnvironment(), workflow_id="inc-room", activity_id="record.1")
    first = [
        event(1, "paged", "Paged ewa.lewandowska as incident_commander", person=EWA),
        event(2, "paged", "Paged piotr.zielinski as security_lead", person="piotr.zielinski"),
        event(3, "acknowledged", "ewa.lewandowska acknowledged as incident_commander"),
    ]
    first[2].via = "Slack"

    await record.run(activities.record, Projection(summary=summary(), events=first))
    await record.run(activities.record, Projection(summary=summary(), events=first))  # a retried projection posts nothing twice

    [created] = slack.calls("conversations.create")
    assert created["name"] == "inc-room-account-compromise"
    [room] = slack.channels
    assert slack.calls("conversations.invite") == [{"channel": room, "users": EWA_SLACK}]  # piotr has no Slack id
    posted = [m["text"] for m in slack.messages_to(room)]
    assert posted[0] == "Playbook account_compromise (account compromise), declared 2026-12-06 03:00 UTC."
    assert slack.channels[room]["pins"] and len(posted) == 2
    assert posted[1] == "ewa.lewandowska acknowledged as incident_commander (via Slack)"

    later = [
        event(4, "phase_changed", "Phase: communicate"),
        event(5, "statement_published", "Statement v1 published to outbox"),
        event(6, "deadline_missed", "Missed the deadline: first_statement"),
        event(7, "task_assigned", "Task assigned"),
    ]
    await record.run(activities.record, Projection(summary=summary("closed", "closed"), events=later))
    posted = [m["text"] for m in slack.messages_to(room)]
    assert posted[2:] == [
        "Phase: communicate",
        "Statement v1 published to outbox",
        "Missed the deadline: first_statement",
        f"The incident is closed. Post-incident report: {PUBLIC_URL}/incidents/inc-room/report",
    ]
    assert slack.channels[room]["archived"] is True


async def test_a_slack_outage_never_holds_up_the_read_model(tmp_path, sessions, roster_dir, slack):
    settings = provider_settings(tmp_path)
    activities = make_activities(settings, sessions, roster_dir)
    activities._chat.__init__(sessions, {ChatKind.SLACK: slack_channel(slack)}, activities._roster, PUBLIC_URL)
    slack.fail(times=5, status=500)
    record = activity_info(ActivityEnvironment(), workflow_id="inc-room", activity_id="record.1")
    await record.run(activities.record, Projection(summary=summary(), events=[event(1, "phase_changed", "Phase: assess")]))
    async with sessions() as session:
        from store import service

        assert (await service.get_incident(session, "inc-room")).phase == "identify"


async def test_notify_sends_a_page_to_slack_only_for_people_with_a_slack_id(
    tmp_path, sessions, roster_dir, slack, fake_twilio, fake_sendgrid
):
    set_contact(roster_dir, EWA, slack=EWA_SLACK)
    settings = provider_settings(tmp_path, fake_twilio.url, fake_sendgrid.url)
    activities = make_activities(settings, sessions, roster_dir)
    activities._chat.__init__(sessions, {ChatKind.SLACK: slack_channel(slack)}, activities._roster, PUBLIC_URL)
    page = Notice(
        incident_id="inc-n", person=EWA, kind="page", subject="SEV1 crisis: Hijacked", body="You are paged.", sms="SEV1 Hijacked."
    )
    deliveries = await activity_info(ActivityEnvironment(), workflow_id="inc-n", activity_id="page.ic.0.0").run(
        activities.notify, page
    )

    assert [d.channel for d in deliveries] == ["twilio", "sendgrid", "slack"]
    token = slack.messages_to(EWA_SLACK)[0]["blocks"][1]["elements"][0]["value"]
    async with sessions() as session:
        row = await tokens.find(session, token)
    assert (row.person_id, row.purpose, row.ledger_key) == (EWA, "acknowledge", "inc-n/page.ic.0.0/slack")

    others = Notice(incident_id="inc-n", person="anna.kowalska", kind="page", subject="S", body="B", sms="S")
    deliveries = await activity_info(ActivityEnvironment(), workflow_id="inc-n", activity_id="page.cl.0.0").run(
        activities.notify, others
    )
    assert "slack" not in [d.channel for d in deliveries]


def test_slack_is_on_only_with_its_token_and_signing_secret(tmp_path):
    assert build_chats(provider_settings(tmp_path)) == {}
    assert dict(chat_choices(provider_settings(tmp_path)))["slack"].startswith("off")
    on = provider_settings(tmp_path, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET)
    assert set(build_chats(on)) == {ChatKind.SLACK}


# ---- requests from Slack ---------------------------------------------------------------------


def test_the_verifier_takes_slacks_own_example_signature():
    """The worked example of Slack's request-signing documentation."""
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar"
        b"&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2F"
        b"commands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    assert slack_signature(SECRET, "1531420618", body) == "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    SlackVerifier(SECRET, clock=lambda: 1531420618 + 60).verify(
        {
            "x-slack-request-timestamp": "1531420618",
            "x-slack-signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
        },
        body,
    )


@pytest_asyncio.fixture(loop_scope="session")
async def app(tmp_path, slack, small_playbooks):
    playbooks = shutil.copytree(small_playbooks, tmp_path / "playbooks-with-slack")
    set_contact(playbooks, EWA, slack=EWA_SLACK)
    set_contact(playbooks, "james.whitfield", slack=JAMES_SLACK)
    settings = provider_settings(
        tmp_path,
        CRISIS_PLAYBOOKS_DIR=str(playbooks),
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=f"{slack.url}/api/",
        SLACK_USER_SCOPES={JAMES_SLACK: ["respond"]},
    )
    async with running(settings) as application:
        yield application


signer = SlackSigner(SECRET)


async def page_token(app, person: str = EWA) -> str:
    """A page sent to ``person`` in Slack through the dispatcher, as the notify activity sends it; its token."""
    async with app.state.sessions() as session:
        links = tokens.Links(await session.connection())
        minted = await links.mint(
            ledger_key=f"inc-i/page.x.{time.time_ns()}/slack",
            incident_id="inc-i",
            person_id=person,
            purpose="acknowledge",
            ttl=timedelta(hours=1),
        )
        await links.write()
        await session.commit()
    return minted.token


async def press(client, payload, timestamp=None, headers=None) -> httpx.Response:
    body, signed = signer.interactivity(payload, timestamp)
    return await client.post("/webhooks/slack/interactivity", content=body, headers=headers or signed)


async def test_forged_stale_replayed_and_unsigned_requests_are_refused(app, client, slack):
    token = await page_token(app)
    payload = block_action(STRANGER, "acknowledge", token, "D0EWA0001", "1.000001")
    body, headers = signer.interactivity(payload)
    forged = {
        **headers,
        "X-Slack-Signature": SlackSigner("another-secret").headers(body, int(headers["X-Slack-Request-Timestamp"]))[
            "X-Slack-Signature"
        ],
    }
    assert (await client.post("/webhooks/slack/interactivity", content=body, headers=forged)).status_code == 403
    stale = await press(client, payload, timestamp=int(time.time()) - 301)
    assert stale.status_code == 403 and "five minutes" in stale.json()["detail"]
    unsigned = await client.post(
        "/webhooks/slack/interactivity", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert unsigned.status_code == 403
    assert slack.calls("chat.postEphemeral") == []  # none of them was even read

    first = await client.post("/webhooks/slack/interactivity", content=body, headers=headers)
    replay = await client.post("/webhooks/slack/interactivity", content=body, headers=headers)
    assert first.status_code == 200 and replay.status_code == 409
    assert len(slack.calls("chat.postEphemeral")) == 1


async def test_someone_not_on_the_roster_is_told_why_privately(app, client, slack):
    token = await page_token(app)
    assert (await press(client, block_action(STRANGER, "acknowledge", token, "D0EWA0001", "1.000002"))).status_code == 200
    [said] = slack.calls("chat.postEphemeral")
    assert said["user"] == STRANGER and said["channel"] == "D0EWA0001"
    assert "not on the crisis team's roster" in said["text"] and STRANGER in said["text"] and "Nothing changed" in said["text"]
    async with app.state.sessions() as session:
        assert (await tokens.find(session, token)).used_at is None


async def test_another_team_member_cannot_press_someone_elses_button(app, client, slack):
    token = await page_token(app, person=EWA)
    await press(client, block_action(JAMES_SLACK, "acknowledge", token, "C0ROOM001", "1.000003"))
    [said] = slack.calls("chat.postEphemeral")
    assert (
        said["user"] == JAMES_SLACK and said["text"] == "This is for Ewa Lewandowska: only they can act on it. Nothing changed."
    )


async def test_a_forged_or_mismatched_button_value_changes_nothing(app, client, slack):
    await press(client, block_action(EWA_SLACK, "acknowledge", "x" * 43, "D0EWA0001", "1.000004"))
    token = await page_token(app)
    await press(client, block_action(EWA_SLACK, "approve", token, "D0EWA0001", "1.000005"))  # an acknowledge token cannot approve
    assert [m["text"] for m in slack.calls("chat.postEphemeral")] == ["This button is not valid. Nothing changed."] * 2


async def test_an_empty_change_request_is_sent_back_to_the_modal(app, client, slack):
    payload = view_submission(
        EWA_SLACK,
        "request_changes",
        json.dumps({"token": "t"}),
        {"comment": {"comment": {"type": "plain_text_input", "value": " "}}},
    )
    answer = await press(client, payload)
    assert answer.json() == {"response_action": "errors", "errors": {"comment": "Say what should change."}}


async def test_the_slash_command_declares_only_for_users_an_admin_allowed(app, client):
    body, headers = signer.command(JAMES_SLACK, "declare misinformation Fake recall notice")
    refused = (await client.post("/webhooks/slack/commands", content=body, headers=headers)).json()
    assert (
        refused["response_type"] == "ephemeral"
        and "declare scope in SLACK_USER_SCOPES" in refused["text"]
        and JAMES_SLACK in refused["text"]
    )
    body, headers = signer.command(EWA_SLACK, "status")
    usage = (await client.post("/webhooks/slack/commands", content=body, headers=headers)).json()
    assert usage["text"].startswith("Usage: /crisis declare <playbook> <title>")
    body, headers = signer.command(EWA_SLACK, "declare misinformation Fake", timestamp=int(time.time()) - 600)
    assert (await client.post("/webhooks/slack/commands", content=body, headers=headers)).status_code == 403


async def test_slack_requests_are_refused_when_slack_is_not_configured(tmp_path, small_playbooks):
    settings = provider_settings(tmp_path, CRISIS_PLAYBOOKS_DIR=str(small_playbooks))
    async with running(settings) as application:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url=PUBLIC_URL) as http:
            body, headers = signer.command(EWA_SLACK, "declare misinformation Fake")
            answer = await http.post("/webhooks/slack/commands", content=body, headers=headers)
    assert answer.status_code == 403 and "not configured" in answer.json()["detail"]


async def test_the_dispatcher_keeps_a_slack_send_single_use(tmp_path, sessions, slack):
    dispatcher = Dispatcher(sessions, {ChatKind.SLACK: slack_channel(slack)})
    first = await dispatcher.send(message("chat.open", None, subject="inc-once-technical-outage"))
    again = await dispatcher.send(message("chat.open", None, subject="inc-once-technical-outage"))
    assert again.duplicate and again.provider_id == first.provider_id and len(slack.calls("conversations.create")) == 1


async def test_a_slow_slack_gets_a_budget_not_the_whole_projection(tmp_path, sessions, roster_dir, slack):
    settings = provider_settings(tmp_path)
    activities = make_activities(settings, sessions, roster_dir)
    activities._chat.__init__(sessions, {ChatKind.SLACK: slack_channel(slack)}, activities._roster, PUBLIC_URL, budget=0.5)
    slack.delay(0.4, times=20)
    events = [event(seq, "phase_changed", f"Phase {seq}") for seq in range(1, 11)]
    record = activity_info(ActivityEnvironment(), workflow_id="inc-room", activity_id="record.1")
    await record.run(activities.record, Projection(summary=summary(), events=events))
    # Without a budget the ten events would make eleven slow requests; a loaded machine may spend the
    # budget on the room's opening alone, so only the ceiling is certain.
    assert 1 <= len(slack.requests) < 6


@pytest.mark.parametrize(
    ("scopes", "named"),
    [({"U0EWA0001": ["declar"]}, "unknown scope declar"), ({"ewa": ["declare"]}, "'ewa' is not a Slack member id")],
)
def test_a_typo_in_the_slack_user_scopes_is_refused_by_name(tmp_path, scopes, named):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=named):
        provider_settings(tmp_path, SLACK_USER_SCOPES=scopes)
