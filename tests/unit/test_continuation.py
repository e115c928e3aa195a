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


def test_the_review_counts_the_approval_rounds_and_waits_of_every_run(drive: Driver):
    """The review's approval-rounds table and approver waits used to cover only the statements the
    last run kept; the rounds of dropped statements are carried, and read back through the view."""
    from domain.actions import Verdict
    from tests.unit.conftest import KASIA, PIOTR

    drive.to_communicate()
    rejected = drive.system_draft()
    drive.tick(minutes=4)
    drive.decide(rejected.version, PIOTR, Verdict.REJECT, comment="Say when.")
    revised = drive.draft("We are recovering the account; next update at noon.")
    drive.tick(minutes=2)
    drive.approve_all(revised.version)
    drive.publish(revised.version)
    publish_updates(drive, 2)
    whole = metrics.compute(drive.state, drive.incident.commander_role, drive.now)
    assert len(whole.approval_rounds) == 4

    for _ in range(2):  # two continue-as-new, each run publishing two more
        drive.incident = Incident.resumed(drive.incident.plan, carried(drive.state, keep_events=3), public_voice=True)
        publish_updates(drive, 2)
    assert drive.state.earlier.runs == 2 and [s.version for s in drive.state.statements] == [6, 7, 8]

    state = metrics.state_from_view(drive.incident.view(drive.now).model_dump(mode="json"))  # as the report reads it
    figures = metrics.compute(state, drive.incident.commander_role, drive.now)
    rounds = [(r.version, r.outcome) for r in figures.approval_rounds]
    assert rounds == [(1, "rejected"), (2, "published"), *[(v, "published") for v in range(3, 9)]]
    assert figures.approval_rounds[0].decisions[0].person == PIOTR and figures.approval_rounds[0].lasted.total_seconds() == 240
    assert metrics.summarize(state, figures).approval_rounds == 8
    waits = {w.person: w for w in figures.approver_waits}
    assert waits[PIOTR].decisions == 8 and waits[KASIA].decisions == 7  # the rejection was Piotr's alone
    assert waits[PIOTR].longest_wait.total_seconds() == 240


def test_a_long_incident_carries_its_latest_rounds_and_counts_the_older_ones(drive: Driver):
    """Every round of a month-long outage would take the state past Temporal's payload warning: the
    oldest are counted, not listed, and the review still counts every one."""
    drive.to_communicate()
    publish_updates(drive, 4)
    for _ in range(2):
        drive.incident = Incident.resumed(
            drive.incident.plan, carried(drive.state, keep_events=3, keep_rounds=2), public_voice=True
        )
        publish_updates(drive, 3)
    assert [r.version for r in drive.state.earlier.approval_rounds] == [5, 6] and drive.state.earlier.rounds_not_kept == 4
    state = metrics.state_from_view(drive.incident.view(drive.now).model_dump(mode="json"))
    figures = metrics.compute(state, drive.incident.commander_role, drive.now)
    assert [r.version for r in figures.approval_rounds] == [5, 6, 7, 8, 9, 10] and figures.rounds_not_listed == 4
    assert metrics.summarize(state, figures).approval_rounds == 10
    from api.review import Report

    markdown = Report(state, drive.incident.commander_role, drive.now).markdown()
    assert "- 4 earlier rounds, counted but not listed one by one\n- v5 (update): published;" in markdown
