"""Data the database refuses is shown on the incident, never retried forever (issue 16 #8): a send
whose ledger entry is refused fails for good, the timeline says so once, and the escalation goes
on (the refusal itself is proven on PostgreSQL in tests/store/test_data_errors.py)."""

import pytest_asyncio
from sqlalchemy.exc import DataError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.incident import DATA_ERROR, REFUSED_PREFIX, IncidentActivities
from activities.models import Publication
from channels.base import ChannelKind, Delivery, OutgoingMessage
from domain.actions import Acknowledge
from domain.incident import Receipt
from domain.severity import Severity
from tests.workflow.harness import open_harness

ROLE = "incident_commander"


class RefusedByTheDatabase:
    """An email channel whose every message the database refuses, as PostgreSQL refuses a NUL."""

    name = "email-refused"

    def __init__(self) -> None:
        self.tries: list[str] = []

    async def send(self, message: OutgoingMessage) -> Delivery:
        self.tries.append(message.ledger_key)
        raise DataError("INSERT INTO notifications …", {}, Exception('invalid byte sequence for encoding "UTF8": 0x00'))


@pytest_asyncio.fixture(loop_scope="session")
async def refused(time_skipping_env, catalog, tmp_path):
    email = RefusedByTheDatabase()
    async with open_harness(time_skipping_env, catalog, tmp_path / "crisis.db", {ChannelKind.EMAIL: email}) as harness:
        yield harness, email


async def test_a_send_the_database_refuses_is_tried_once_and_shown_on_the_incident(refused, catalog):
    harness, email = refused
    plan = harness.commander_only(harness.plan("account_compromise", severity=Severity.SEV1))
    first = catalog.roster.org_chart().policy(ROLE).levels[0].people[0]
    handle = await harness.start(plan)
    state = await harness.until(handle, lambda s: any(e["kind"] == "data_error" for e in s["timeline"]))
    state = await harness.until(handle, lambda s: sum(e["kind"] == "data_error" for e in s["timeline"]) == 2)
    errors = {e["data"]["what"]: e["message"] for e in state["timeline"] if e["kind"] == "data_error"}
    assert set(errors) == {f"page {first} as {ROLE}, level 1, round 1", "brief stakeholders: declared"}, (
        errors
    )  # the page and the briefing, once each
    assert all("0x00" in message and "not retried" in message for message in errors.values())
    page = f"{plan.id}/page.{ROLE}.0.0/email"
    assert email.tries.count(page) == 1  # failed for good: no second try
    await harness.act(handle, "acknowledge", Acknowledge(person=first))  # the incident goes on
    await harness.until(handle, lambda s: s["phase"] == "assess")
    timeline = await harness.timeline(plan.id)
    assert any(e.kind == "data_error" for e in timeline)  # and the read model has it (GET /readyz counts it)


async def closed_publishing_each_version_once(harness, handle) -> None:
    """Drive the incident to closed; its history published each statement version once (a refused
    publication used to be published again at once, for ever)."""
    state = await harness.drive_to_closed(handle)
    await handle.result()
    history = await handle.fetch_history()
    published = [
        event.activity_task_scheduled_event_attributes.activity_id
        for event in history.events
        if event.HasField("activity_task_scheduled_event_attributes")
        and event.activity_task_scheduled_event_attributes.activity_type.name == "publish"
    ]
    assert published == [f"publish.v{statement['version']}" for statement in state["statements"]]


@pytest_asyncio.fixture(loop_scope="session")
async def refusing_target(time_skipping_env, catalog, tmp_path):
    target = RefusedByTheDatabase()
    async with open_harness(time_skipping_env, catalog, tmp_path / "crisis.db", publishing={"status_page": target}) as harness:
        yield harness, target


async def test_a_publication_the_database_refuses_is_tried_once_and_the_incident_goes_on(refusing_target):
    """The statement used to stay approved and unpublished, so the workflow published it again at
    once, for ever: now the refused target is given up in its receipt, the others keep theirs."""
    harness, target = refusing_target
    plan = harness.commander_only(harness.plan("account_compromise"))
    handle = await harness.start(plan)
    state = await harness.drive_until(handle, lambda s: any(st["status"] == "published" for st in s["statements"]))
    receipts = {receipt["channel"]: receipt for receipt in state["statements"][0]["receipts"]}
    assert receipts["outbox"]["error"] is None  # the other target published
    assert (
        receipts["status_page"]["error"].startswith("the database refused the data: ")
        and "0x00" in receipts["status_page"]["error"]
    )
    assert target.tries == [f"{plan.id}/publish.v1/public/status_page"]  # once: never again
    kinds = [(event["kind"], event["data"].get("what") or event["data"].get("target")) for event in state["timeline"]]
    assert ("publication_failed", "status_page") in kinds
    assert ("data_error", "publish statement v1 (holding)") in kinds

    await closed_publishing_each_version_once(harness, handle)


class RefusingPublisher(IncidentActivities):
    """A worker whose publication fails for good with a data error, as one from before a refused
    target became a receipt does: the workflow still publishes the statement once."""

    @activity.defn(name="publish")
    async def publish(self, publication: Publication) -> list[Receipt]:
        raise ApplicationError(
            f'{REFUSED_PREFIX}invalid byte sequence for encoding "UTF8": 0x00', type=DATA_ERROR, non_retryable=True
        )


async def test_a_publication_failing_for_good_on_a_data_error_is_published_once_with_the_refusal(
    time_skipping_env, catalog, tmp_path
):
    async with open_harness(time_skipping_env, catalog, tmp_path / "crisis.db", activities_class=RefusingPublisher) as harness:
        plan = harness.commander_only(harness.plan("account_compromise"))
        handle = await harness.start(plan)
        state = await harness.drive_until(handle, lambda s: any(st["status"] == "published" for st in s["statements"]))
        [receipt] = state["statements"][0]["receipts"]  # the default target, not known to be reached
        assert receipt["channel"] == "every target" and "0x00" in receipt["error"]
        assert any(e["kind"] == "data_error" and e["data"]["what"] == "publish statement v1 (holding)" for e in state["timeline"])
        await closed_publishing_each_version_once(harness, handle)
