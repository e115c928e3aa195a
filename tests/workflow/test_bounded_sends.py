"""Pages, internal messages and the social schedulers' pause and resume, on the time-skipping server:
a provider that refuses a page on every channel, or is down for good, neither fails nor holds up the
incident; the escalation goes on and the timeline says what did not go."""

import shutil
from datetime import timedelta
from pathlib import Path

import yaml

from channels.base import ChannelKind, Delivery, OutgoingMessage, PermanentDeliveryError
from domain.actions import Acknowledge
from domain.catalog import load_catalog
from domain.severity import Severity
from tests.workflow.harness import SmsOutage, open_harness
from workflows.incident import NOTICE_CLOSES_WITHIN, PUBLISH_RETRY

PROJECT = Path(__file__).resolve().parents[2]
ROLE = "incident_commander"


class Refusing:
    """A provider that refuses every message to some people for good (an invalid number, a bounced
    address) and takes everyone else's."""

    name = "refusing"

    def __init__(self, *refused: str) -> None:
        self.refused = set(refused)
        self.delivered: list[OutgoingMessage] = []

    async def send(self, message: OutgoingMessage) -> Delivery:
        if message.person_id in self.refused:
            raise PermanentDeliveryError("400 Bad Request: the recipient is not valid")
        self.delivered.append(message)
        return Delivery(channel=self.name, accepted=True, provider_id=f"P{len(self.delivered)}")


class DownFor(SmsOutage):
    """A provider down for good for one kind of message (503s), taking every other."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    async def send(self, message: OutgoingMessage) -> Delivery:
        if message.kind != self.kind:
            self.delivered.append(message)
            return Delivery(channel=self.name, accepted=True, provider_id=f"D{len(self.delivered)}")
        return await super().send(message)


def events(state: dict, kind: str) -> list[dict]:
    return [event for event in state["timeline"] if event["kind"] == kind]


async def test_a_page_refused_on_sms_and_email_is_recorded_and_the_next_level_is_paged(time_skipping_env, catalog, tmp_path):
    first, second = (level.people[0] for level in catalog.roster.org_chart().policy(ROLE).levels[:2])
    refusing = Refusing(first)
    async with open_harness(
        time_skipping_env, catalog, tmp_path / "crisis.db", {ChannelKind.SMS: refusing, ChannelKind.EMAIL: refusing}
    ) as harness:
        plan = harness.commander_only(harness.plan("account_compromise", severity=Severity.SEV1))
        handle = await harness.start(plan)
        page = f"page {first} as {ROLE}, level 1, round 1"
        state = await harness.until(handle, lambda s: any(e["data"]["what"] == page for e in events(s, "notice_failed")))
        failed = next(e for e in events(state, "notice_failed") if e["data"]["what"] == page)
        assert failed["data"]["channels"] == ["sms", "email"] and failed["data"]["reached_by"] == []
        assert "400 Bad Request" in failed["data"]["reason"]
        assert not any(e["data"].get("person") == first for e in events(state, "paged")), "a page nobody received is not 'paged'"

        await harness.env.sleep(plan.playbook.identify.acknowledge_within.at(Severity.SEV1) + timedelta(seconds=1))
        state = await harness.until(handle, lambda s: any(e["data"]["person"] == second for e in events(s, "paged")))
        assert any(e["data"]["person"] == first for e in events(state, "page_unanswered"))

        await harness.act(handle, "acknowledge", Acknowledge(person=second))
        final = await harness.drive_to_closed(handle)
        await handle.result()  # the escalation's failed page does not fail the incident at its close
        result = await harness.state(handle)  # the closed incident still answers the query
    assert final["status"] == result["status"] == "closed"
    assert {m.person_id for m in refusing.delivered if m.kind == "page"} >= {second}


async def test_a_refused_call_pages_by_sms_instead(time_skipping_env, tmp_path):
    folder = tmp_path / "playbooks"
    shutil.copytree(PROJECT / "playbooks", folder)
    team = yaml.safe_load((folder / "team.yaml").read_text(encoding="utf-8"))
    first = team["roles"][ROLE]["escalation"]["levels"][0]["people"][0]
    team["roles"][ROLE]["escalation"]["levels"][0]["channels"] = ["call"]
    (folder / "team.yaml").write_text(yaml.safe_dump(team, sort_keys=False, allow_unicode=True), encoding="utf-8")
    catalog = load_catalog(folder)
    calls = Refusing(first)
    async with open_harness(
        time_skipping_env, catalog, tmp_path / "crisis.db", {ChannelKind.CALL: calls}, roster=folder
    ) as harness:
        plan = harness.commander_only(harness.plan("account_compromise"))
        handle = await harness.start(plan)
        state = await harness.until(handle, lambda s: any(e["data"]["person"] == first for e in events(s, "paged")))
        fallback = next(e for e in events(state, "delivery_failed") if e["data"]["person"] == first)
        assert (fallback["data"]["channel"], fallback["data"]["fallback"]) == ("call", "sms")
        await harness.until_sent(plan.id, "page", first, "sms")
        final = await harness.drive_to_closed(handle)
        assert (await handle.result()).status == final["status"] == "closed"
    assert not calls.delivered


async def test_an_internal_message_its_email_provider_cannot_take_is_recorded_and_the_incident_closes(
    time_skipping_env, catalog, tmp_path
):
    email = DownFor("internal")
    async with open_harness(time_skipping_env, catalog, tmp_path / "crisis.db", {ChannelKind.EMAIL: email}) as harness:
        plan = harness.commander_only(harness.plan("technical_outage"))
        handle = await harness.start(plan)
        await harness.drive_until(handle, lambda s: any(m["status"] == "approved" for m in s["internal_messages"]))

        await harness.env.sleep(NOTICE_CLOSES_WITHIN + timedelta(minutes=1))
        state = await harness.until(
            handle,
            lambda s: any(e["data"]["what"].startswith("email the internal message to") for e in events(s, "notice_failed")),
        )
        failed = next(e for e in events(state, "notice_failed") if e["data"]["what"].startswith("email the internal message to"))
        assert failed["data"]["channels"] == ["email"] and failed["data"]["reached_by"] == []
        assert "503 Service Unavailable" in failed["data"]["reason"]
        final = await harness.drive_to_closed(handle)
        assert (await handle.result()).status == final["status"] == "closed"
    assert email.tries and not [m for m in email.delivered if m.kind == "internal"]


async def test_a_scheduler_that_is_down_is_recorded_at_the_pause_and_the_resume_and_the_incident_closes(
    time_skipping_env, catalog, tmp_path
):
    scheduler = SmsOutage()
    async with open_harness(time_skipping_env, catalog, tmp_path / "crisis.db", publishing={"scheduler": scheduler}) as harness:
        plan = harness.commander_only(harness.plan("account_compromise"))
        communicate = plan.playbook.communicate.model_copy(
            update={"pause_scheduled_posts": ["scheduler"], "publish_to": ["outbox"]}
        )
        plan = plan.model_copy(update={"playbook": plan.playbook.model_copy(update={"communicate": communicate})})
        handle = await harness.start(plan)

        await harness.env.sleep(NOTICE_CLOSES_WITHIN + timedelta(minutes=1))
        state = await harness.until(handle, lambda s: events(s, "schedulers_told"))
        [paused] = events(state, "schedulers_told")
        assert paused["data"] == {"event": "social.pause", "targets": []}
        assert paused["message"].startswith("Pause scheduled posts: told nobody; not reached: scheduler (")

        await harness.drive_to_closed(handle)
        await handle.result()  # the resume is bounded too
        result = await harness.state(handle)  # the closed incident still answers the query
    told = events(result, "schedulers_told")
    assert [e["data"]["event"] for e in told] == ["social.pause", "social.resume"]
    assert told[1]["message"].startswith("Resume scheduled posts: told nobody; not reached: scheduler (")
    assert scheduler.tries and not scheduler.delivered


async def test_a_publishing_target_that_is_down_is_given_up_in_the_receipts_and_the_incident_closes(
    time_skipping_env, catalog, tmp_path
):
    network = SmsOutage()
    async with open_harness(time_skipping_env, catalog, tmp_path / "crisis.db", publishing={"network": network}) as harness:
        plan = harness.commander_only(harness.plan("account_compromise"))
        communicate = plan.playbook.communicate.model_copy(update={"publish_to": ["outbox", "network"]})
        plan = plan.model_copy(update={"playbook": plan.playbook.model_copy(update={"communicate": communicate})})
        handle = await harness.start(plan)

        await harness.drive_until(handle, lambda s: any(st["status"] in ("approved", "published") for st in s["statements"]))
        await harness.env.sleep(NOTICE_CLOSES_WITHIN)  # the tries' back-off, skipped
        state = await harness.until(handle, lambda s: any(st["status"] == "published" for st in s["statements"]))
        holding = next(st for st in state["statements"] if st["status"] == "published")
        receipts = {r["channel"]: r for r in holding["receipts"]}
        assert receipts["outbox"]["error"] is None
        assert receipts["network"]["error"].startswith(
            f"given up after {PUBLISH_RETRY.maximum_attempts} tries: 503 Service Unavailable"
        )
        assert any(e["data"]["target"] == "network" for e in events(state, "publication_failed"))
        assert next(d for d in state["deadlines"] if d["name"] == "first_statement")["status"] == "met"
        assert network.tries and not network.delivered

        network.down = False  # back for the updates and the resolution
        final = await harness.drive_to_closed(handle)
        assert (await handle.result()).status == final["status"] == "closed"
