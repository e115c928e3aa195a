"""The next-update promise: when it falls, how it reads, and that the next update is due then."""

from datetime import datetime, timedelta, timezone

import pytest

from domain.actions import Verdict
from domain.metrics import compute
from domain.promise import promise_at, word_promise
from domain.statements import StatementKind
from tests.unit.conftest import ANNA, KASIA, Driver

AFTERNOON = datetime(2026, 12, 7, 13, 21, 40, tzinfo=timezone.utc)  # 14:21 in Warsaw (CET)
SUMMER = datetime(2026, 7, 7, 13, 21, tzinfo=timezone.utc)  # 15:21 in Warsaw (CEST)


def test_the_promise_allows_for_the_approvers_then_the_cadence_rounded_up_to_five_minutes():
    assert promise_at(AFTERNOON, timedelta(minutes=10), timedelta(hours=1)) == datetime(2026, 12, 7, 14, 35, tzinfo=timezone.utc)
    on_the_dot = datetime(2026, 12, 7, 13, 20, tzinfo=timezone.utc)
    assert promise_at(on_the_dot, timedelta(0), timedelta(minutes=30)) == datetime(2026, 12, 7, 13, 50, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("moment", "zone", "language", "expected"),
    [
        (datetime(2026, 12, 7, 14, 30, tzinfo=timezone.utc), "Europe/Warsaw", "pl", "godz. 15:30"),
        (datetime(2026, 12, 7, 14, 30, tzinfo=timezone.utc), "Europe/Warsaw", "en", "15:30 CET"),
        (datetime(2026, 12, 8, 8, 0, tzinfo=timezone.utc), "Europe/Warsaw", "pl", "8 grudnia, godz. 9:00"),
        (datetime(2026, 12, 8, 8, 0, tzinfo=timezone.utc), "Europe/Warsaw", "en", "09:00 CET on 8 December"),
        (
            datetime(2026, 12, 7, 23, 30, tzinfo=timezone.utc),
            "Europe/Warsaw",
            "en",
            "00:30 CET on 8 December",
        ),  # tomorrow in Warsaw
        (datetime(2026, 12, 7, 14, 30, tzinfo=timezone.utc), "UTC", "pl", "godz. 14:30 UTC"),
        (datetime(2026, 12, 7, 14, 30, tzinfo=timezone.utc), "America/New_York", "en", "09:30 EST"),
    ],
)
def test_the_promise_reads_in_the_organisation_s_time_zone_with_the_date_when_not_today(moment, zone, language, expected):
    assert word_promise(moment, AFTERNOON, zone, language) == expected


def test_summer_time_is_named_as_the_reader_s_clock_shows_it():
    assert word_promise(datetime(2026, 7, 7, 14, 30, tzinfo=timezone.utc), SUMMER, "Europe/Warsaw", "en") == "16:30 CEST"


def _published_with_promise(drive: Driver, promise: datetime):
    drive.to_communicate()
    holding = drive.incident.add_statement(
        StatementKind.HOLDING, "We are on it. Next update by 14:35.", "crisisflow", drive.now, promise=promise
    )
    return holding


def test_the_next_update_is_due_when_promised_however_long_approval_took(drive: Driver):
    promise = drive.now + timedelta(hours=2, minutes=20)
    holding = _published_with_promise(drive, promise)
    drive.tick(minutes=50)  # a slow approval
    drive.approve_all(holding.version)
    drive.publish(holding.version)
    assert drive.state.next_update_due == promise
    assert drive.state.deadlines["update.1"].due_at == promise
    assert "promised" in drive.state.deadlines["update.1"].label


def test_a_broken_promise_shows_as_missed_although_the_cadence_from_publication_was_kept(drive: Driver):
    cadence = drive.incident.playbook.communicate.update_every.at(drive.incident.severity)
    promise = drive.now + cadence
    holding = _published_with_promise(drive, promise)
    drive.tick(minutes=30)
    drive.approve_all(holding.version)
    drive.publish(holding.version)
    drive.tick(seconds=(cadence - timedelta(minutes=10)).total_seconds())  # within publication + cadence, after the promise
    update = drive.system_draft(StatementKind.UPDATE)
    drive.approve_all(update.version)
    drive.publish(update.version)
    result = next(d for d in compute(drive.state, drive.incident.commander_role, drive.now).deadlines if d.name == "update.1")
    assert result.status == "missed" and result.margin == -timedelta(minutes=20)


def test_a_revision_keeps_the_promise_of_the_version_it_revises(drive: Driver):
    promise = drive.now + timedelta(hours=2)
    holding = _published_with_promise(drive, promise)
    drive.decide(holding.version, KASIA, Verdict.REJECT, "Say which accounts.")
    revised = drive.draft("We are securing our Instagram account. Next update by 14:35.", ANNA)
    assert revised.promise == promise


def test_the_update_is_drafted_the_approvers_window_before_the_promise(drive: Driver):
    promise = drive.now + timedelta(hours=2)
    holding = _published_with_promise(drive, promise)
    drive.approve_all(holding.version)
    drive.publish(holding.version)
    lead = timedelta(minutes=20)
    assert not drive.incident.update_due(promise - lead - timedelta(seconds=1), lead)
    assert drive.incident.update_due(promise - lead, lead)
