"""Reports across incidents, and the SVG charts they are drawn with."""

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from xml.etree import ElementTree

from api.charts import line_chart, timeline_chart
from domain.metrics import compute
from domain.reporting import AGGREGATE_COLUMNS, aggregate, aggregate_record, series
from tests.unit.conftest import Driver, make_plan


@dataclass
class Row:
    incident_id: str
    scenario: str
    severity: str
    declared_at: datetime
    time_to_acknowledge_s: float | None
    time_to_first_statement_s: float | None
    time_to_resolve_s: float | None
    deadlines_met: int = 3
    deadlines_missed: int = 1


NOV = datetime(2026, 11, 3, tzinfo=timezone.utc)
DEC = datetime(2026, 12, 1, tzinfo=timezone.utc)


def test_aggregates_per_month_scenario_and_severity_leave_missing_figures_out():
    rows = [
        Row("a", "technical_outage", "SEV2", NOV, 120, 1200, 3600),
        Row("b", "technical_outage", "SEV2", NOV + timedelta(days=2), 360, None, 1800),
        Row("c", "technical_outage", "SEV1", NOV, 60, 600, 900),
        Row("d", "technical_outage", "SEV2", DEC, 600, 900, 7200),
    ]
    result = aggregate(rows)
    assert [(a.month, a.severity, a.incidents) for a in result] == [
        ("2026-11", "SEV1", 1),
        ("2026-11", "SEV2", 2),
        ("2026-12", "SEV2", 1),
    ]
    november = result[1]
    assert november.median_minutes["time_to_acknowledge_s"] == 4.0
    assert november.median_minutes["time_to_first_statement_s"] == 20.0  # the incident with nothing published is left out
    assert november.mean_minutes["time_to_resolve_s"] == 45.0
    assert (november.deadlines_met, november.deadlines_missed, november.met_share) == (6, 2, 0.75)
    record = aggregate_record(november)
    assert len(record) == len(AGGREGATE_COLUMNS) and record[:4] == ["2026-11", "technical_outage", "SEV2", 2]
    assert series(rows, "time_to_first_statement_s")["technical_outage SEV2"] == [(NOV, 20.0), (DEC, 15.0)]


def test_the_line_chart_is_valid_svg_with_one_line_per_series_and_escaped_names():
    svg = line_chart("c1", "Time <to> ack", {"a & b": [(NOV, 1.0), (DEC, 3.0)], "c": [(NOV, 2.0)]})
    root = ElementTree.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f"{ns}polyline")) == 1 and len(root.findall(f"{ns}circle")) == 3
    assert "a &amp; b" in svg and "Time &lt;to&gt; ack" in svg
    assert "no data yet" in line_chart("c2", "Empty", {})


def test_the_timeline_chart_shows_phases_milestones_and_deadlines(catalog):
    drive = Driver(make_plan(catalog)).to_closed()
    metrics = compute(drive.state, "incident_commander", drive.now)
    svg = timeline_chart(drive.state, metrics, drive.now)
    root = ElementTree.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    classes = [element.get("class") for element in root.iter() if element.get("class")]
    assert classes.count("phase-band") == 6
    assert classes.count("milestone") >= 4
    assert sum(c.startswith("deadline ") for c in classes) == len(metrics.deadlines)
    assert root.find(f"{ns}line") is not None
