"""Microsoft Teams: Adaptive Cards posted to a loopback fake of a Workflows webhook that refuses a
card Teams would not render (the shape is checked field by field)."""

from datetime import datetime, timezone

import httpx
import pytest
from temporalio.testing import ActivityEnvironment

from activities.models import IncidentSummary, Projection
from channels.base import ChatKind, Link, OutgoingMessage, PermanentDeliveryError, TransientDeliveryError
from channels.registry import build_chats
from channels.teams import TeamsChannel, webhook_payload
from domain.incident import TimelineEvent
from domain.messages import Notice
from store import tokens
from tests.channels.conftest import EWA, PUBLIC_URL, activity_info, make_activities, provider_settings
from tests.fakes.providers import FakeTeams, card_problems


@pytest.fixture(scope="module")
def teams_server():
    with FakeTeams() as fake:
        yield fake


@pytest.fixture
def teams(teams_server):
    teams_server.reset()
    yield teams_server


def card_message(**fields) -> OutgoingMessage:
    values = {
        "ledger_key": "inc-t/chat.event.1/teams",
        "incident_id": "inc-t",
        "person_id": None,
        "kind": "chat.event",
        "channel": ChatKind.TEAMS,
        "subject": "SEV2 Checkout down",
        "body": "Phase: assess",
        "links": [Link(label="Open the incident", url=f"{PUBLIC_URL}/incidents/inc-t/view")],
    }
    return OutgoingMessage(**(values | fields))


async def test_a_card_reaches_the_webhook_in_the_shape_teams_renders(teams):
    delivery = await TeamsChannel(teams.webhook_url).send(card_message(drill=True))
    [card] = teams.cards()
    assert [block["text"] for block in card["body"]] == ["DRILL", "SEV2 Checkout down", "Phase: assess"]
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Open the incident", "url": f"{PUBLIC_URL}/incidents/inc-t/view"}
    ]
    assert delivery.accepted and delivery.provider_id.startswith("08585")


def test_the_fake_refuses_what_teams_would_not_render():
    good = webhook_payload(card_message())
    assert card_problems(good) == []
    broken = webhook_payload(card_message())
    broken["attachments"][0]["contentType"] = "application/json"
    broken["attachments"][0]["content"]["actions"][0]["url"] = "/relative"
    assert card_problems(broken) == [
        "attachments.0.contentType: not application/vnd.microsoft.card.adaptive",
        "attachments.0.content.actions.0: an Action.OpenUrl with a title and an absolute url is expected",
    ]
    assert card_problems({"text": "hello"}) == ['the body is not {"type": "message", ...}']


async def test_a_refused_card_is_permanent_and_an_outage_is_retried(teams):
    refused = httpx.post(teams.webhook_url, json={"type": "message", "attachments": []})
    assert refused.status_code == 400
    with pytest.raises(PermanentDeliveryError, match="404"):
        await TeamsChannel(teams.webhook_url.replace("/crisis", "/nowhere")).send(card_message())
    teams.fail(times=1, status=503)
    with pytest.raises(TransientDeliveryError):
        await TeamsChannel(teams.webhook_url).send(card_message())


async def test_pages_and_the_incidents_events_reach_teams(tmp_path, sessions, roster_dir, teams, fake_twilio, fake_sendgrid):
    settings = provider_settings(tmp_path, fake_twilio.url, fake_sendgrid.url, TEAMS_WEBHOOK_URL=teams.webhook_url)
    chats = build_chats(settings)
    assert set(chats) == {ChatKind.TEAMS}
    activities = make_activities(settings, sessions, roster_dir)
    activities._chat.__init__(sessions, chats, activities._roster, PUBLIC_URL)

    page = Notice(
        incident_id="inc-t", person=EWA, kind="page", subject="SEV1 crisis: Hijacked", body="You are paged.", sms="SEV1 Hijacked."
    )
    deliveries = await activity_info(ActivityEnvironment(), workflow_id="inc-t", activity_id="page.ic.0.0").run(
        activities.notify, page
    )
    assert [d.channel for d in deliveries] == ["twilio", "sendgrid", "teams"]
    [card] = teams.cards()
    assert card["body"][1]["text"] == "For Ewa Lewandowska: You are paged."
    acknowledge, incident = card["actions"]
    assert acknowledge["title"] == "Acknowledge" and incident["url"] == f"{PUBLIC_URL}/incidents/inc-t/view"
    async with sessions() as session:
        row = await tokens.find(session, acknowledge["url"].rsplit("/a/", 1)[1])
    assert (row.person_id, row.purpose, row.ledger_key) == (
        EWA,
        "acknowledge",
        "inc-t/page.ic.0.0/teams",
    )  # its own link, not the SMS one

    now = datetime(2026, 12, 6, 3, 0, tzinfo=timezone.utc)
    summary = IncidentSummary(
        id="inc-t",
        title="Checkout down",
        playbook="technical_outage",
        scenario="technical_outage",
        severity="SEV2",
        phase="closed",
        status="closed",
        drill=False,
        declared_at=now,
        updated_at=now,
        closed_at=now,
        pending=[],
        projected_seq=2,
    )
    events = [
        TimelineEvent(seq=1, at=now, kind="statement_approved", message="Statement v1 approved"),
        TimelineEvent(seq=2, at=now, kind="task_assigned", message="Task assigned"),
    ]
    await activity_info(ActivityEnvironment(), workflow_id="inc-t", activity_id="record.9").run(
        activities.record, Projection(summary=summary, events=events)
    )
    texts = [card["body"][1]["text"] for card in teams.cards()[1:]]
    assert texts == [
        "Statement v1 approved",
        f"The incident is closed. Post-incident report: {PUBLIC_URL}/incidents/inc-t/report",
    ]
