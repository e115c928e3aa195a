"""What a long incident carries into its next workflow run (continue-as-new): its state trimmed to
what the next run needs, with the numbers, threads and metrics going on as if nothing had been cut."""

from domain import metrics
from domain.continuation import carried
from domain.incident import Incident, Receipt, StatementStatus
from tests.unit.conftest import Driver


def publish_updates(drive: Driver, count: int) -> None:
    for _ in range(count):
        drive.tick(minutes=30)
        statement = drive.system_draft()
        drive.approve_all(statement.version)
        receipts = [
            Receipt(channel="x", provider_id=f"post-{statement.version}", sha256=statement.sha256),
            Receipt(channel="outbox", sha256=statement.sha256),
        ]
        drive.incident.mark_published(statement.version, drive.now, receipts)


def test_the_next_run_carries_the_recent_state_and_numbers_go_on(drive: Driver):
    drive.to_communicate()
    publish_updates(drive, 6)
    before = drive.incident
    first_published = before.published()[0].published_at
    events = before.event_count

    state = carried(before.state, keep_events=10)
    assert len(state.timeline) == 10 and state.timeline[-1] == before.state.timeline[-1]
    assert state.earlier.events == events - 10 and state.earlier.runs == 1
    assert [s.version for s in state.statements] == [6] and state.earlier.statements == 5  # from the last published one on
    assert state.earlier.threads == {"x": "post-1"}  # later statements still answer the first post
    assert state.earlier.first_published_at == first_published
    assert state.deadlines == before.state.deadlines and state.tasks == before.state.tasks

    after = Incident.resumed(before.plan, state, public_voice=before.public_voice)
    assert after.event_count == events and after.statement_count == 6
    assert after.threads() == before.threads() and after.last_published().version == 6
    drive.incident = after
    publish_updates(drive, 1)
    assert after.state.statements[-1].version == 7 and after.state.statements[-1].status is StatementStatus.PUBLISHED
    assert [event.seq for event in after.state.timeline] == list(range(events - 9, after.event_count + 1))
    assert after.event(events + 1).kind == "statement_drafted"
    figures = metrics.compute(after.state, after.commander_role, drive.now)
    assert figures.time_to_first_statement == first_published - after.state.declared_at


def test_a_reply_surge_recorded_by_an_earlier_run_is_not_recorded_again(drive: Driver):
    drive.to_communicate()
    publish_updates(drive, 1)
    assert drive.incident.record_reply_surge("sig-1", 1, "12 of 15 replies negative", drive.now)
    publish_updates(drive, 3)
    after = Incident.resumed(drive.incident.plan, carried(drive.incident.state, keep_events=2), public_voice=True)
    assert not any(event.kind == "reply_surge" for event in after.state.timeline)
    assert not after.record_reply_surge("sig-1", 1, "12 of 15 replies negative", drive.now)
    assert after.record_reply_surge("sig-2", 4, "10 of 12 replies negative", drive.now)


def test_a_second_continuation_adds_to_what_the_first_left(drive: Driver):
    drive.to_communicate()
    publish_updates(drive, 3)
    once = carried(drive.incident.state, keep_events=5)
    drive.incident = Incident.resumed(drive.incident.plan, once, public_voice=True)
    publish_updates(drive, 3)
    twice = carried(drive.incident.state, keep_events=5)
    assert twice.earlier.runs == 2 and twice.earlier.statements == 5 and [s.version for s in twice.statements] == [6]
    assert twice.earlier.events + len(twice.timeline) == drive.incident.event_count
    assert twice.earlier.threads == {"x": "post-1"} and twice.earlier.first_published_at == once.earlier.first_published_at
