"""Notices other than pages go beside the incident's flow, on the time-skipping server: a provider
that is down or refuses a person neither holds up nor fails the incident, and shows on its timeline."""

import shutil
from datetime import timedelta
from pathlib import Path

import yaml

from channels.base import ChannelKind
from channels.twilio_sms import TwilioSMSChannel
from tests.fakes.providers import FakeTwilio
from tests.workflow.harness import EmailOutage, open_harness

PROJECT = Path(__file__).resolve().parents[2]
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "f" * 32
INVALID_NUMBER = "+15005550001"  # the fake Twilio answers 400, error 21211, as Twilio's test credentials do


def published(state: dict) -> bool:
    return any(statement["status"] == "published" for statement in state["statements"])


def failed_notices(state: dict) -> list[dict]:
    return [event for event in state["timeline"] if event["kind"] == "notice_failed"]


async def test_a_statement_is_approved_and_published_on_time_while_email_is_down_for_an_hour(
    time_skipping_env, catalog, tmp_path
):
    email = EmailOutage()
    async with open_harness(time_skipping_env, catalog, tmp_path / "crisis.db", {ChannelKind.EMAIL: email}) as harness:
        plan = harness.commander_only(harness.plan("account_compromise"))
        handle = await harness.start(plan)

        # Every task assignment and approval request fails by email; none of them holds up the flow.
        state = await harness.drive_until(handle, published)
        first = next(d for d in state["deadlines"] if d["name"] == "first_statement")
        assert first["status"] == "met"
        assert not email.delivered and email.tries

        await harness.env.sleep(timedelta(hours=1))
        state = await harness.state(handle)
        approver = plan.org.members("legal")[0]
        asked = next(e for e in failed_notices(state) if e["data"]["what"] == f"ask {approver} (legal) to approve v1")
        assert asked["data"]["channels"] == ["email"] and asked["data"]["reached_by"] == ["sms"]
        assert asked["message"].startswith(f"email to {approver} failed (email: 503 Service Unavailable) for: ask {approver}")
        assert not email.delivered

        email.down = False
        final = await harness.drive_to_closed(handle)
        assert final["status"] == "closed"
        assert (await handle.result()).status == "closed"


async def test_a_permanent_twilio_400_for_one_person_is_recorded_and_the_incident_carries_on(
    time_skipping_env, catalog, tmp_path
):
    approver = catalog.roster.org_chart().members("legal")[0]
    roster = tmp_path / "playbooks"
    roster.mkdir()
    shutil.copy(PROJECT / "playbooks" / "team.yaml", roster / "team.yaml")
    team = yaml.safe_load((roster / "team.yaml").read_text(encoding="utf-8"))
    next(person for person in team["people"] if person["id"] == approver)["phone"] = INVALID_NUMBER
    (roster / "team.yaml").write_text(yaml.safe_dump(team, sort_keys=False, allow_unicode=True), encoding="utf-8")

    with FakeTwilio(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID) as twilio:
        sms = TwilioSMSChannel(ACCOUNT_SID, AUTH_TOKEN, from_number="+15005550006", api_url=twilio.url, timeout=10)
        async with open_harness(
            time_skipping_env, catalog, tmp_path / "crisis.db", {ChannelKind.SMS: sms}, roster=roster
        ) as harness:
            plan = harness.commander_only(harness.plan("account_compromise"))
            handle = await harness.start(plan)
            final = await harness.drive_to_closed(handle)
            assert (await handle.result()).status == "closed"

    refused = [e for e in failed_notices(final) if e["data"]["person"] == approver]
    assert refused, "the refused SMS is not on the timeline"
    asked = next(e for e in refused if e["data"]["what"] == f"ask {approver} (legal) to approve v1")
    assert asked["data"]["channels"] == ["sms"] and asked["data"]["reached_by"] == ["email"]
    assert "21211" in asked["data"]["reason"]
    assert INVALID_NUMBER not in asked["message"]  # contacts stay out of the workflow's history
    assert all(e["data"]["person"] == approver for e in failed_notices(final))
    emailed = {m.person_id for m in await harness.outbox(plan.id) if m.kind == "approval" and m.channel == "email"}
    assert approver in emailed


async def test_the_incident_closes_while_a_notice_is_still_failing(time_skipping_env, catalog, tmp_path):
    email = EmailOutage()
    email.down = False
    async with open_harness(time_skipping_env, catalog, tmp_path / "crisis.db", {ChannelKind.EMAIL: email}) as harness:
        plan = harness.commander_only(harness.plan("account_compromise"))
        handle = await harness.start(plan)
        await harness.drive_until(handle, lambda s: published(s) and s["phase"] == "communicate")

        # Email goes down for good: the resolution, the review request and the feedback links fail by
        # email while the team resolves, approves the resolution statement and writes the review.
        email.down = True
        final = await harness.drive_to_closed(handle)
        assert final["status"] == "closed"
        result = await handle.result()  # waits for the notices (bounded), then completes
        assert result.status == "closed"
        failures = failed_notices(await harness.state(handle))  # a closed incident still answers the query
    commander = plan.org.members("incident_commander")[0]
    review = next(e for e in failures if e["data"]["what"] == f"ask {commander} for the review")
    assert review["data"]["reached_by"] == ["sms"]
    assert any(
        e["data"]["what"].startswith("ask ") and "for feedback by link" in e["data"]["what"] and e["data"]["reached_by"] == []
        for e in failures
    )
