"""The Statuspage channel against a fake that checks Statuspage's documented request shapes and
its one-request-a-second limit (tests/fakes/statuspage.py)."""

import pytest

from channels.base import ChannelKind, OutgoingMessage, PermanentDeliveryError, PublicPost, TransientDeliveryError
from channels.statuspage import StatuspageChannel
from tests.fakes.providers import Fault
from tests.social.conftest import COMPONENTS, PAGE_ID, STATUSPAGE_KEY


def channel(fake, key: str = STATUSPAGE_KEY) -> StatuspageChannel:
    return StatuspageChannel(key, PAGE_ID, fake.api_url, timeout=10)


def statement(kind: str, body: str, thread: str | None = None, severity: str = "SEV1") -> OutgoingMessage:
    return OutgoingMessage(
        ledger_key=f"inc-sp/publish.{kind}/public/statuspage",
        incident_id="inc-sp",
        person_id=None,
        kind=f"statement.{kind}",
        channel=ChannelKind.PUBLIC,
        subject="Checkout 500s after deploy 4812 — statement",
        body=body,
        post=PublicPost(statement=kind, thread=thread, severity=severity, components=COMPONENTS, headline="Service disruption"),
    )


async def test_holding_opens_an_incident_updates_follow_and_the_resolution_resolves_it(statuspage):
    page = channel(statuspage)
    opened = await page.send(statement("holding", "Some of you cannot pay in the app. We are on it."))
    incident = statuspage.incidents[opened.provider_id]
    assert opened.url == incident["shortlink"]
    assert incident["name"] == "Service disruption" and incident["status"] == "investigating"
    assert incident["impact_override"] == "critical"
    assert incident["components"] == {component: "major_outage" for component in COMPONENTS}

    await page.send(statement("update", "We found the cause and are rolling back.", thread=opened.provider_id))
    resolved = await page.send(statement("resolution", "Payments work again. Sorry for the trouble.", thread=opened.provider_id))

    assert resolved.provider_id == opened.provider_id and incident["status"] == "resolved"
    assert [update["body"] for update in reversed(incident["incident_updates"])] == [
        "Some of you cannot pay in the app. We are on it.",
        "We found the cause and are rolling back.",
        "Payments work again. Sorry for the trouble.",
    ]
    assert statuspage.components == {component: "operational" for component in COMPONENTS}
    # Three requests, each at least a second after the one before: the fake refuses faster ones.
    assert [r.status for r in statuspage.requests] == [201, 200, 200] and statuspage.too_fast == 0


async def test_the_fake_does_refuse_requests_faster_than_one_a_second(statuspage):
    import httpx

    async with httpx.AsyncClient() as client:
        headers = {"Authorization": f"OAuth {STATUSPAGE_KEY}"}
        body = {"incident": {"name": "Service disruption", "body": "x"}}
        first = await client.post(f"{statuspage.api_url}/pages/{PAGE_ID}/incidents", json=body, headers=headers)
        second = await client.post(f"{statuspage.api_url}/pages/{PAGE_ID}/incidents", json=body, headers=headers)
    assert first.status_code == 201 and second.status_code == 420 and statuspage.too_fast == 1


async def test_the_fake_refuses_a_shape_statuspage_does_not_document(statuspage):
    import httpx

    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{statuspage.api_url}/pages/{PAGE_ID}/incidents",
            headers={"Authorization": f"OAuth {STATUSPAGE_KEY}"},
            json={"incident": {"name": "x", "impact_override": "catastrophic"}},
        )
    assert answer.status_code == 422 and "impact_override" in answer.text


async def test_a_wrong_key_is_refused_for_good_and_named(statuspage):
    with pytest.raises(PermanentDeliveryError, match="statuspage answered 401.*credentials"):
        await channel(statuspage, "wrong").send(statement("holding", "We are on it."))


async def test_a_rate_limit_is_retried_after_the_time_statuspage_asks(statuspage):
    statuspage.inject(Fault(status=429, headers={"Retry-After": "7"}))
    with pytest.raises(TransientDeliveryError) as refused:
        await channel(statuspage).send(statement("holding", "We are on it."))
    assert refused.value.retry_after == 7


async def test_a_server_error_is_retried(statuspage):
    statuspage.fail(status=503)
    with pytest.raises(TransientDeliveryError, match="503"):
        await channel(statuspage).send(statement("holding", "We are on it."))


async def test_a_pause_notice_never_reaches_the_status_page(statuspage):
    message = statement("holding", "Pause scheduled posts").model_copy(update={"kind": "social.pause"})
    with pytest.raises(PermanentDeliveryError, match="statements only"):
        await channel(statuspage).send(message)
    assert statuspage.requests == []
