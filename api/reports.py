"""``GET /reports``: how the team does across incidents (per scenario and severity, month by
month), with charts drawn on the server and a CSV export. Drills are reported apart (``?drill=true``)."""

import csv
import io
from datetime import datetime
from enum import StrEnum

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from api.charts import line_chart
from api.deps import SessionDep
from api.pages import templates
from domain.export_text import csv_cell
from domain.playbook import Scenario
from domain.reporting import AGGREGATE_COLUMNS, MEASURES, aggregate, aggregate_record, series
from domain.severity import Severity
from domain.times import utc
from store import service

router = APIRouter(tags=["review"])

INCIDENT_COLUMNS = [
    "incident_id",
    "playbook",
    "scenario",
    "severity",
    "drill",
    "declared_at",
    "closed_at",
    "time_to_detect_s",
    "time_to_acknowledge_s",
    "time_to_assessment_s",
    "time_to_first_statement_s",
    "time_to_resolve_s",
    "deadlines_met",
    "deadlines_missed",
    "highest_escalation_level",
    "approval_rounds",
    "feedback_count",
    "feedback_mean",
]


class ReportsFormat(StrEnum):
    HTML = "html"
    CSV = "csv"


class Rows(StrEnum):
    AGGREGATE = "aggregate"
    INCIDENT = "incident"


def _csv(header: list[str], records: list[list[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([csv_cell(value) for value in record] for record in records)
    return buffer.getvalue()


@router.get("/reports", responses={200: {"content": {"text/html": {}, "text/csv": {}}}})
async def reports(
    request: Request,
    session: SessionDep,
    drill: bool = False,
    scenario: Scenario | None = None,
    severity: Severity | None = None,
    format: ReportsFormat = ReportsFormat.HTML,
    rows: Rows = Rows.AGGREGATE,
) -> Response:
    """Time to acknowledge, to first statement and to resolve per scenario and severity over time
    (incidents from their review on). ``?format=csv`` exports the monthly aggregates, or with
    ``&rows=incident`` one line per incident."""
    found = await service.list_metrics(
        session, drill=drill, scenario=scenario and scenario.value, severity=severity and severity.value
    )
    aggregates = aggregate(found)
    if format is ReportsFormat.CSV:
        if rows is Rows.INCIDENT:
            body = _csv(INCIDENT_COLUMNS, [[_cell(getattr(row, column)) for column in INCIDENT_COLUMNS] for row in found])
        else:
            body = _csv(AGGREGATE_COLUMNS, [aggregate_record(item) for item in aggregates])
        name = f"crisisflow-{'drills' if drill else 'incidents'}-{rows.value}.csv"
        return PlainTextResponse(
            body, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'}
        )
    charts = [
        line_chart(f"chart-{measure.removesuffix('_s')}", f"{label} (minutes)", series(found, measure))
        for measure, label in MEASURES.items()
    ]
    query = (
        f"drill={'true' if drill else 'false'}"
        + (f"&scenario={scenario.value}" if scenario else "")
        + (f"&severity={severity.value}" if severity else "")
    )
    return templates.TemplateResponse(
        request,
        "reports.html",
        {
            "aggregates": aggregates,
            "charts": charts,
            "measures": MEASURES,
            "drill": drill,
            "count": len(found),
            "query": query,
            "incidents": found,
        },
    )


def _cell(value: object) -> object:
    """Times as spreadsheets and people read them (``2026-12-06 11:41:02``, UTC), not raw ISO with microseconds."""
    if value is None:
        return ""
    return f"{utc(value):%Y-%m-%d %H:%M:%S}" if isinstance(value, datetime) else value
