"""store/service.py on SQLite and PostgreSQL: the projection's idempotency and order safety, the
outbox ledger's dedupe, the list filters and the counts behind /metrics."""

import asyncio
from datetime import datetime, timedelta, timezone

from store import service

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


def summary(incident_id: str = "inc-1", seq: int = 1, **changes) -> dict:
    base = {
        "id": incident_id,
        "title": "Hacked account",
        "playbook": "account_compromise",
        "scenario": "security_breach",
        "severity": "SEV2",
        "phase": "identify",
        "status": "open",
        "drill": False,
        "declared_at": T0,
        "updated_at": T0 + timedelta(minutes=seq),
        "closed_at": None,
        "pending": [{"kind": "acknowledge", "people": ["ewa.lewandowska"]}],
        "projected_seq": seq,
    }
    return {**base, **changes}


def event(seq: int, kind: str = "note", **data) -> dict:
    return {"seq": seq, "at": T0 + timedelta(minutes=seq), "kind": kind, "actor": None, "message": f"event {seq}", "data": data}


def outbox_message(
    ledger_key: str, incident_id: str = "inc-1", channel: str = "sms", kind: str = "page", drill: bool = False
) -> dict:
    return {
        "ledger_key": ledger_key,
        "incident_id": incident_id,
        "person_id": "ewa.lewandowska",
        "channel": channel,
        "kind": kind,
        "subject": "SEV2 crisis",
        "body": "You are paged.",
        "links": [{"label": "Incident", "url": "http://test/incidents/inc-1/view"}],
        "drill": drill,
        "created_at": T0,
    }


async def test_projection_inserts_the_row_and_its_events(sessions):
    async with sessions() as session:
        await service.project_incident(session, summary(seq=2), [event(1), event(2)])
    async with sessions() as session:
        row = await service.get_incident(session, "inc-1")
        timeline = await service.list_timeline(session, "inc-1")
    assert row.phase == "identify" and row.projected_seq == 2 and row.pending[0]["people"] == ["ewa.lewandowska"]
    assert row.declared_at == T0 and row.declared_at.tzinfo is not None
    assert [e.seq for e in timeline] == [1, 2] and timeline[0].at == T0 + timedelta(minutes=1)


async def test_repeating_a_projection_changes_nothing(sessions):
    for _ in range(3):
        async with sessions() as session:
            await service.project_incident(session, summary(seq=2), [event(1), event(2)])
    async with sessions() as session:
        assert [e.seq for e in await service.list_timeline(session, "inc-1")] == [1, 2]
        assert len(await service.list_incidents(session)) == 1


async def test_a_stale_projection_never_moves_the_row_back(sessions):
    async with sessions() as session:
        await service.project_incident(session, summary(seq=5, phase="respond"), [event(4), event(5)])
    async with sessions() as session:  # a retried activity from earlier arrives late
        await service.project_incident(session, summary(seq=3, phase="assess"), [event(1), event(2), event(3)])
    async with sessions() as session:
        row = await service.get_incident(session, "inc-1")
        timeline = await service.list_timeline(session, "inc-1")
    assert row.phase == "respond" and row.projected_seq == 5
    assert [e.seq for e in timeline] == [1, 2, 3, 4, 5]


async def test_concurrent_projections_of_one_incident_end_at_the_newest(sessions):
    async def project(seq: int) -> None:
        async with sessions() as session:
            await service.project_incident(session, summary(seq=seq, phase=f"p{seq}"), [event(s) for s in range(1, seq + 1)])

    async with sessions() as session:
        await service.project_incident(session, summary(seq=1, phase="p1"), [event(1)])
    await asyncio.gather(*(project(seq) for seq in (4, 2, 6, 3, 5)))
    async with sessions() as session:
        row = await service.get_incident(session, "inc-1")
        assert (row.phase, row.projected_seq) == ("p6", 6)
        assert [e.seq for e in await service.list_timeline(session, "inc-1")] == [1, 2, 3, 4, 5, 6]


async def test_record_outbox_stores_a_ledger_key_once(sessions):
    async with sessions() as session:
        assert await service.record_outbox(await session.connection(), [outbox_message("inc-1/1/sms")]) == {"inc-1/1/sms"}
        await session.commit()
    async with sessions() as session:
        again = [outbox_message("inc-1/1/sms"), outbox_message("inc-1/1/email", channel="email")]
        assert await service.record_outbox(await session.connection(), again) == {"inc-1/1/email"}
        await session.commit()
    async with sessions() as session:
        messages = await service.list_outbox(session)
    assert sorted(m.ledger_key for m in messages) == ["inc-1/1/email", "inc-1/1/sms"]


async def test_list_incidents_filters_and_orders_newest_first(sessions):
    rows = [
        summary("inc-a", phase="identify", scenario="security_breach", declared_at=T0),
        summary("inc-b", phase="respond", scenario="technical_outage", declared_at=T0 + timedelta(hours=1)),
        summary("inc-c", phase="closed", status="closed", scenario="technical_outage", declared_at=T0 + timedelta(hours=2)),
    ]
    for row in rows:
        async with sessions() as session:
            await service.project_incident(session, row, [])
    async with sessions() as session:
        ids = lambda incidents: [i.id for i in incidents]  # noqa: E731
        assert ids(await service.list_incidents(session)) == ["inc-c", "inc-b", "inc-a"]
        assert ids(await service.list_incidents(session, phase="respond")) == ["inc-b"]
        assert ids(await service.list_incidents(session, scenario="technical_outage")) == ["inc-c", "inc-b"]
        assert ids(await service.list_incidents(session, status="open")) == ["inc-b", "inc-a"]
        assert ids(await service.list_incidents(session, scenario="technical_outage", status="open")) == ["inc-b"]
        assert ids(await service.list_incidents(session, limit=1)) == ["inc-c"]
        assert await service.list_incidents(session, phase="review") == []


async def test_list_outbox_filters_by_incident_newest_first(sessions):
    for key, incident in (("a/1/sms", "inc-a"), ("b/1/sms", "inc-b"), ("a/2/sms", "inc-a")):
        async with sessions() as session:
            await service.record_outbox(await session.connection(), [outbox_message(key, incident_id=incident)])
            await session.commit()
    async with sessions() as session:
        assert [m.ledger_key for m in await service.list_outbox(session, incident_id="inc-a")] == ["a/2/sms", "a/1/sms"]
        assert [m.ledger_key for m in await service.list_outbox(session, limit=2)] == ["a/2/sms", "b/1/sms"]
        assert await service.list_outbox(session, incident_id="inc-x") == []


async def test_metric_counts(sessions):
    async with sessions() as session:
        await service.project_incident(
            session,
            summary("inc-a", phase="respond"),
            [
                event(1, "deadline_missed", deadline="acknowledge.incident_commander"),
                event(2, "deadline_missed", deadline="acknowledge.comms_lead"),
                event(3, "deadline_missed", deadline="task.lock_account"),
                event(4, "reminder_sent", deadline="task.lock_account"),
            ],
        )
    async with sessions() as session:
        await service.project_incident(
            session, summary("inc-b", phase="respond", drill=True), [event(1, "deadline_missed", deadline="first_statement")]
        )
    async with sessions() as session:
        await service.project_incident(session, summary("inc-c", phase="closed", status="closed"), [])
    for key, channel, kind, drill in (
        ("a/1/sms", "sms", "page", False),
        ("a/1/email", "email", "page", False),
        ("a/2/sms", "sms", "page", False),
        ("b/1/email", "email", "approval", True),
    ):
        async with sessions() as session:
            await service.record_outbox(
                await session.connection(), [outbox_message(key, channel=channel, kind=kind, drill=drill)]
            )
            await session.commit()

    async with sessions() as session:
        assert await service.count_open_incidents(session) == {("respond", False): 1, ("respond", True): 1}
        assert await service.count_notifications(session) == {
            ("sms", "page", "sent", False): 2,
            ("email", "page", "sent", False): 1,
            ("email", "approval", "sent", True): 1,
        }
        assert await service.count_missed_deadlines(session) == {
            ("acknowledge", False): 2,
            ("task", False): 1,
            ("first_statement", True): 1,
        }


async def test_metric_counts_of_an_empty_database(sessions):
    async with sessions() as session:
        assert await service.count_open_incidents(session) == {}
        assert await service.count_notifications(session) == {}
        assert await service.count_missed_deadlines(session) == {}
