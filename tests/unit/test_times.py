"""Times as people read them: the incident page, the report and the CSV export show no raw ISO."""

import re
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from api.pages import templates
from api.reports import _cell
from api.review import Report
from domain.incident import Phase
from domain.statements import StatementKind
from domain.times import clock_time, readable
from tests.unit.conftest import T0, Driver

RAW_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d|\.\d{6}")


def test_readable_takes_datetimes_and_the_api_s_iso_text():
    moment = datetime(2026, 12, 6, 11, 41, 2, 123456, tzinfo=timezone.utc)
    assert readable(moment) == "2026-12-06 11:41:02 UTC"
    assert readable("2026-12-06T12:41:02.123456+01:00") == "2026-12-06 11:41:02 UTC"
    assert readable("2026-12-06T11:41:02.5Z", seconds=False) == "2026-12-06 11:41 UTC"
    assert readable(None) == "—"


def test_clock_time_adds_the_date_only_on_another_day():
    assert clock_time(T0 + timedelta(minutes=30, microseconds=7), T0) == "00:30:00"
    assert clock_time(T0 + timedelta(days=5), T0) == "2026-01-06 00:00:00"


def _closed(drive: Driver) -> Driver:
    drive.tick(seconds=1.5)  # times with microseconds, as the workflow's clock gives them
    drive.to_closed()
    return drive


def test_the_report_shows_no_raw_iso_times(drive: Driver):
    state = _closed(drive).state
    markdown = Report(state, drive.incident.commander_role, drive.now).markdown()
    assert not RAW_ISO.search(markdown), RAW_ISO.search(markdown)
    review = next(line for line in markdown.splitlines() if line.startswith("| post-incident review submitted"))
    assert f"| {state.deadlines['review'].due_at:%Y-%m-%d %H:%M:%S} |" in review  # due days after the declaration: dated
    html = templates.get_template("report.html").render(
        report=Report(state, drive.incident.commander_role, drive.now),
        state=state,
        chart="",
        describe=str,
        clock_time=clock_time,
        incident={},
        conversation=None,
        request=SimpleNamespace(state=SimpleNamespace()),
    )
    assert not RAW_ISO.search(html)


def test_the_incident_page_shows_no_raw_iso_times(drive: Driver):
    drive.tick(seconds=1.5)
    drive.to_communicate()
    view = drive.incident.view(drive.now).model_dump(mode="json")
    assert RAW_ISO.search(str(view["timeline"][0]["at"]))  # what the API answers with
    html = templates.get_template("incident.html").render(
        incident=view,
        temporal_url="",
        kit=None,
        kit_languages=[],
        conversation=None,
        conversation_chart=None,
        request=SimpleNamespace(state=SimpleNamespace()),
        names={},
        pending=view["pending"],
        people=[],
        form={},
    )
    shown = re.sub(r"<[^>]*>", "", html)  # <time datetime="…"> carries ISO for the reader's clock; people read the text
    assert not RAW_ISO.search(shown), RAW_ISO.search(shown)
    assert f"{drive.state.declared_at:%Y-%m-%d %H:%M:%S} UTC" in html
    assert drive.incident.phase is Phase.COMMUNICATE


def test_the_csv_export_writes_plain_utc_times():
    assert _cell(datetime(2026, 12, 6, 11, 41, 2, 123456, tzinfo=timezone.utc)) == "2026-12-06 11:41:02"
    assert _cell(datetime(2026, 12, 6, 11, 41, 2, 123456)) == "2026-12-06 11:41:02"  # SQLite's naive UTC
    assert (_cell(None), _cell(3.5)) == ("", 3.5)


def test_the_approval_page_says_when_the_statement_promises_the_next_update(drive: Driver):
    drive.to_communicate()
    promise = drive.now + timedelta(hours=1, minutes=10, seconds=3)
    statement = drive.incident.add_statement(
        StatementKind.HOLDING, "Next update by 01:10 CET.", "crisisflow", drive.now, promise=promise
    )
    view = drive.incident.view(drive.now).model_dump(mode="json")
    html = templates.get_template("approval.html").render(
        incident=view,
        statement=view["statements"][-1],
        person="Katarzyna",
        action="/a/x",
        due_at=None,
        decisions=[],
        request=SimpleNamespace(state=SimpleNamespace()),
    )
    assert re.search(rf'<strong id="promise"><time datetime="[^"]+">{promise:%Y-%m-%d %H:%M} UTC</time></strong>', html)
    assert statement.promise == promise
