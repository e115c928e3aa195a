"""Each publishing target sends exactly its channel's approved variant, and refuses one over its
limit rather than cutting it (the publish activity against the outbox and a recording channel)."""

from temporalio.testing import ActivityEnvironment

from activities.incident import IncidentActivities, RosterSource
from activities.models import Publication
from channels.base import ChannelKind, Delivery, OutgoingMessage
from channels.outbox import OutboxChannel
from domain.statements import StatementKind
from domain.variants import Channel, Form, build_variants, find, variant_sha256
from store import service
from tests.channels.conftest import activity_info

FORMS = {
    Form.TITLE: "Investigating: Ordering in our app is down",
    Form.SHORT: "Ordering in our app is down. Updates: status.example.com",
    Form.LONG: "Ordering in our app is down.\n\nYou can order at the counter.",
}


class Recording:
    """A publishing channel that keeps what it was given (stands in for X, Mastodon…)."""

    name = "recording"

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    async def send(self, message: OutgoingMessage) -> Delivery:
        self.sent.append(message)
        return Delivery(channel=self.name, accepted=True, provider_id=f"post-{len(self.sent)}")


def publication(variants, targets) -> Publication:
    return Publication(
        incident_id="inc-test",
        version=1,
        kind=StatementKind.HOLDING,
        title="Mention surge: internal",
        text=FORMS[Form.LONG],
        targets=targets,
        variants=variants,
    )


async def test_each_target_publishes_its_own_variant_and_reports_its_hash(sessions, roster_dir):
    x_account, scheduler = Recording(), Recording()
    outbox = OutboxChannel(sessions)
    activities = IncidentActivities(
        sessions,
        RosterSource(roster_dir),
        {kind: outbox for kind in ChannelKind},
        "http://test",
        publishing={"outbox": outbox, "x_account": x_account, "scheduler": scheduler},
        variants={"x_account": Channel.X, "scheduler": Channel.LINKEDIN},
    )
    variants = build_variants(FORMS)
    environment = activity_info(ActivityEnvironment(), activity_id="publish.v1")
    receipts = await environment.run(activities.publish, publication(variants, ["outbox", "x_account", "scheduler"]))
    assert [(r.channel, r.variant, r.error) for r in receipts] == [
        ("outbox", "status_page", None),
        ("x_account", "x", None),
        ("scheduler", "linkedin", None),
    ]
    assert x_account.sent[0].body == FORMS[Form.SHORT] and x_account.sent[0].subject == ""
    assert scheduler.sent[0].body == FORMS[Form.LONG]
    async with sessions() as session:
        [stored] = [m for m in await service.list_outbox(session, incident_id="inc-test") if m.channel == "public"]
    assert (stored.subject, stored.body) == (FORMS[Form.TITLE], FORMS[Form.LONG])  # never the internal title
    for receipt in receipts:
        assert receipt.sha256 == variant_sha256(find(variants, receipt.variant))


async def test_a_variant_over_its_limit_is_refused_not_cut(sessions, roster_dir):
    x_account = Recording()
    outbox = OutboxChannel(sessions)
    activities = IncidentActivities(
        sessions,
        RosterSource(roster_dir),
        {kind: outbox for kind in ChannelKind},
        "http://test",
        publishing={"outbox": outbox, "x_account": x_account},
        variants={"x_account": Channel.X},
    )
    variants = build_variants({**FORMS, Form.SHORT: "界" * 141})
    environment = activity_info(ActivityEnvironment(), activity_id="publish.v1")
    receipts = await environment.run(activities.publish, publication(variants, ["x_account", "outbox"]))
    assert receipts[0].error == "refused, not cut: x: 282 weighted characters, over the limit of 280"
    assert x_account.sent == [] and receipts[1].error is None
    only_email = build_variants(FORMS, [Channel.EMAIL])
    [missing] = await environment.run(activities.publish, publication(only_email, ["x_account"]))
    assert missing.error == "refused: the statement has no x variant"


async def test_the_social_networks_and_the_status_page_publish_their_own_variant_by_default(sessions, roster_dir):
    networks = {name: Recording() for name in ("x", "mastodon", "bluesky", "statuspage")}
    outbox = OutboxChannel(sessions)
    activities = IncidentActivities(
        sessions,
        RosterSource(roster_dir),
        {kind: outbox for kind in ChannelKind},
        "http://test",
        publishing={"outbox": outbox, **networks},
        default_targets=[*networks, "outbox"],
    )
    variants = build_variants(FORMS)
    environment = activity_info(ActivityEnvironment(), activity_id="publish.v1")
    receipts = await environment.run(activities.publish, publication(variants, None))  # no publish_to: every target set up
    assert {r.channel: (r.variant, r.error) for r in receipts} == {
        "x": ("x", None),
        "mastodon": ("mastodon", None),
        "bluesky": ("bluesky", None),
        "statuspage": ("status_page", None),
        "outbox": ("status_page", None),
    }
    for name in ("x", "mastodon", "bluesky"):
        assert networks[name].sent[0].body == FORMS[Form.SHORT]
    assert (networks["statuspage"].sent[0].subject, networks["statuspage"].sent[0].body) == (FORMS[Form.TITLE], FORMS[Form.LONG])
    for receipt in receipts:
        assert receipt.sha256 == variant_sha256(find(variants, receipt.variant))
