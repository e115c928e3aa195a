"""The publish activity with real publishing targets: defaults when a playbook names none, threads,
receipts with the public URL, refusals kept local, and a retry that never posts twice."""

from datetime import timedelta

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.incident import IncidentActivities, RosterSource
from activities.models import Publication
from channels.outbox import OutboxChannel
from channels.registry import default_publishing_targets, publishing_target_names, publishing_targets
from domain.statements import StatementKind
from store import ledger
from tests.channels.conftest import PUBLIC_URL, activity_info, provider_settings
from tests.fakes.providers import Fault
from tests.social.conftest import COMPONENTS, PAGE_ID, STATUSPAGE_KEY


def settings_with_statuspage(tmp_path, statuspage, **more):
    values = {
        "STATUSPAGE_API_KEY": STATUSPAGE_KEY,
        "STATUSPAGE_PAGE_ID": PAGE_ID,
        "STATUSPAGE_API_URL": statuspage.api_url,
        "TWILIO_ACCOUNT_SID": None,
        "SENDGRID_API_KEY": None,
    }
    return provider_settings(tmp_path, **{**values, **more})


def activities(settings, sessions, roster_dir) -> IncidentActivities:
    outbox = OutboxChannel(sessions)
    from channels.base import ChannelKind

    channels = {kind: outbox for kind in ChannelKind}
    return IncidentActivities(
        sessions=sessions,
        roster=RosterSource(roster_dir),
        channels=channels,
        public_url=PUBLIC_URL,
        publishing=publishing_targets(settings, sessions, channels),
        default_targets=default_publishing_targets(settings),
    )


def publication(version: int, kind: StatementKind, text: str, targets=None, threads=None) -> Publication:
    return Publication(
        incident_id="inc-pub",
        version=version,
        kind=kind,
        title="Checkout 500s after deploy 4812 (internal)",
        text=text,
        targets=targets,
        threads=threads or {},
        severity="SEV2",
        status_page_name="Service disruption",
        components=COMPONENTS,
    )


def test_the_social_targets_are_named_once_set_and_are_the_default(tmp_path, statuspage):
    settings = settings_with_statuspage(
        tmp_path,
        statuspage,
        X_ACCESS_TOKEN="x-token",
        MASTODON_API_BASE_URL="https://mastodon.example",
        MASTODON_ACCESS_TOKEN="m-token",
        BLUESKY_HANDLE="northwind.bsky.social",
        BLUESKY_APP_PASSWORD="abcd-efgh-ijkl-mnop",
    )
    assert default_publishing_targets(settings) == ["x", "mastodon", "bluesky", "statuspage", "outbox"]
    assert publishing_target_names(settings)[:4] == ["x", "mastodon", "bluesky", "statuspage"]
    bare = provider_settings(
        tmp_path, TWILIO_ACCOUNT_SID=None, SENDGRID_API_KEY=None, MASTODON_API_BASE_URL="https://mastodon.example"
    )
    assert default_publishing_targets(bare) == ["outbox"]  # Mastodon without its token is not set up


async def test_a_playbook_without_publish_to_reaches_every_target_set_up_and_updates_thread(
    tmp_path, sessions, statuspage, roster_dir
):
    work = activities(settings_with_statuspage(tmp_path, statuspage), sessions, roster_dir)
    environment = activity_info(ActivityEnvironment(), workflow_id="inc-pub", activity_id="publish.v1")
    receipts = await environment.run(work.publish, publication(1, StatementKind.HOLDING, "We are looking into failed payments."))

    by_target = {receipt.channel: receipt for receipt in receipts}
    assert set(by_target) == {"statuspage", "outbox"} and all(r.error is None for r in receipts)
    [incident] = statuspage.incidents.values()
    assert by_target["statuspage"].provider_id == incident["id"] and by_target["statuspage"].url == incident["shortlink"]
    assert incident["name"] == "Service disruption"  # the public name, never the internal title

    environment = activity_info(ActivityEnvironment(), workflow_id="inc-pub", activity_id="publish.v2")
    await environment.run(
        work.publish,
        publication(2, StatementKind.UPDATE, "Payments work again for most of you.", threads={"statuspage": incident["id"]}),
    )
    assert len(statuspage.incidents) == 1 and len(incident["incident_updates"]) == 2


async def test_publish_to_narrows_the_targets(tmp_path, sessions, statuspage, roster_dir):
    work = activities(settings_with_statuspage(tmp_path, statuspage), sessions, roster_dir)
    environment = activity_info(ActivityEnvironment(), workflow_id="inc-pub", activity_id="publish.v1")
    receipts = await environment.run(work.publish, publication(1, StatementKind.HOLDING, "We are on it.", targets=["outbox"]))
    assert [r.channel for r in receipts] == ["outbox"] and statuspage.requests == []


async def test_a_rate_limited_target_is_retried_when_it_asks_and_the_others_are_not_sent_twice(
    tmp_path, sessions, statuspage, roster_dir
):
    from sqlalchemy import text

    work = activities(settings_with_statuspage(tmp_path, statuspage), sessions, roster_dir)
    statuspage.inject(Fault(status=429, headers={"Retry-After": "42"}))
    environment = activity_info(ActivityEnvironment(), workflow_id="inc-pub", activity_id="publish.v1")
    with pytest.raises(ApplicationError) as retried:
        await environment.run(work.publish, publication(1, StatementKind.HOLDING, "We are on it."))
    assert retried.value.next_retry_delay == timedelta(seconds=42) and "statuspage" in str(retried.value)
    async with sessions() as session:
        states = {state.target: state for state in await ledger.publishing_state(session, "inc-pub")}
    assert states["outbox"].status == "sent"  # the other target went at once
    assert states["statuspage"].retrying and "429" in states["statuspage"].error and states["statuspage"].attempts == 1

    environment = activity_info(ActivityEnvironment(), workflow_id="inc-pub", activity_id="publish.v1", attempt=2)
    receipts = await environment.run(work.publish, publication(1, StatementKind.HOLDING, "We are on it."))
    assert {r.channel for r in receipts if r.error is None} == {"statuspage", "outbox"} and len(statuspage.incidents) == 1
    async with sessions() as session:
        outbox_rows = (await session.execute(text("select count(*) from outbox_messages"))).scalar_one()
    assert outbox_rows == 1  # the outbox took it on the first attempt and the retry did not send it again

    environment = activity_info(ActivityEnvironment(), workflow_id="inc-pub", activity_id="publish.v1", attempt=3)
    again = await environment.run(work.publish, publication(1, StatementKind.HOLDING, "We are on it."))
    # A third run finds both in the ledger: nothing is posted, the receipt still has the public URL.
    assert len(statuspage.incidents) == 1 and len(statuspage.accepted) == 1
    [page_receipt] = [r for r in again if r.channel == "statuspage"]
    assert page_receipt.url == f"https://{PAGE_ID}.statuspage.io/incidents/{page_receipt.provider_id}"


async def test_on_the_workflow_s_last_try_a_target_still_failing_is_given_up_in_its_receipt(
    tmp_path, sessions, statuspage, roster_dir
):
    work = activities(settings_with_statuspage(tmp_path, statuspage), sessions, roster_dir)
    bounded = publication(1, StatementKind.HOLDING, "We are on it.").model_copy(update={"tries": 2})
    statuspage.inject(Fault(status=503, times=2))
    with pytest.raises(ApplicationError) as retried:
        await activity_info(ActivityEnvironment(), workflow_id="inc-pub", activity_id="publish.v1").run(work.publish, bounded)
    assert retried.value.details == ("statuspage",)  # which targets the workflow would name if it ran out of time

    last = activity_info(ActivityEnvironment(), workflow_id="inc-pub", activity_id="publish.v1", attempt=2)
    receipts = {r.channel: r for r in await last.run(work.publish, bounded)}
    assert receipts["statuspage"].error.startswith("given up after 2 tries: ") and "503" in receipts["statuspage"].error
    assert receipts["outbox"].error is None and receipts["outbox"].sha256  # the target that went keeps its receipt


async def test_a_refusal_stays_with_its_target(tmp_path, sessions, statuspage, roster_dir):
    settings = settings_with_statuspage(tmp_path, statuspage, STATUSPAGE_API_KEY="revoked")
    work = activities(settings, sessions, roster_dir)
    environment = activity_info(ActivityEnvironment(), workflow_id="inc-pub", activity_id="publish.v1")
    receipts = {r.channel: r for r in await environment.run(work.publish, publication(1, StatementKind.HOLDING, "We are on it."))}
    assert "401" in receipts["statuspage"].error and receipts["outbox"].error is None


def test_receipts_show_each_post_and_why_one_did_not_go():
    from api.pages import templates
    from domain.incident import Receipt

    statement = {
        "version": 2,
        "receipts": [
            Receipt(
                channel="x", sha256="a", provider_id="1346889436626259968", url="https://x.com/i/web/status/1346889436626259968"
            ),
            Receipt(channel="mastodon", sha256="", error="refused: mastodon answered 401 (check the mastodon credentials)"),
        ],
    }
    html = templates.env.get_template("receipts.html").render(s=statement)
    assert '<a href="https://x.com/i/web/status/1346889436626259968"' in html
    assert "mastodon</strong>: not published — refused: mastodon answered 401" in html
