"""Figures across incidents: per scenario and severity, month by month. Pure; the rows are the
read model's per-incident metrics (anything with the same attributes)."""

import statistics
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

MEASURES = {
    "time_to_acknowledge_s": "time to acknowledge",
    "time_to_first_statement_s": "time to first statement",
    "time_to_resolve_s": "time to resolve",
}


class MetricsRow(Protocol):
    incident_id: str
    scenario: str
    severity: str
    declared_at: datetime
    time_to_acknowledge_s: float | None
    time_to_first_statement_s: float | None
    time_to_resolve_s: float | None
    deadlines_met: int
    deadlines_missed: int


@dataclass(frozen=True)
class Aggregate:
    month: str
    scenario: str
    severity: str
    incidents: int
    median_minutes: dict[str, float | None]
    mean_minutes: dict[str, float | None]
    deadlines_met: int
    deadlines_missed: int

    @property
    def met_share(self) -> float | None:
        counted = self.deadlines_met + self.deadlines_missed
        return self.deadlines_met / counted if counted else None


def _minutes(values: list[float | None], how) -> float | None:
    present = [v / 60 for v in values if v is not None]
    return round(how(present), 1) if present else None


def aggregate(rows: list[MetricsRow]) -> list[Aggregate]:
    """One aggregate per (month of declaration, scenario, severity), oldest month first. A figure
    an incident does not have (nothing published, never acknowledged) is left out of that figure's
    median and mean, not counted as zero."""
    groups: dict[tuple[str, str, str], list[MetricsRow]] = {}
    for row in rows:
        groups.setdefault((f"{row.declared_at:%Y-%m}", row.scenario, row.severity), []).append(row)
    result = []
    for (month, scenario, severity), members in sorted(groups.items()):
        result.append(
            Aggregate(
                month=month,
                scenario=scenario,
                severity=severity,
                incidents=len(members),
                median_minutes={m: _minutes([getattr(r, m) for r in members], statistics.median) for m in MEASURES},
                mean_minutes={m: _minutes([getattr(r, m) for r in members], statistics.fmean) for m in MEASURES},
                deadlines_met=sum(r.deadlines_met for r in members),
                deadlines_missed=sum(r.deadlines_missed for r in members),
            )
        )
    return result


def series(rows: list[MetricsRow], measure: str) -> dict[str, list[tuple[datetime, float]]]:
    """Each incident's figure in minutes over time, one series per scenario and severity."""
    lines: dict[str, list[tuple[datetime, float]]] = {}
    for row in rows:
        value = getattr(row, measure)
        if value is not None:
            lines.setdefault(f"{row.scenario} {row.severity}", []).append((row.declared_at, round(value / 60, 1)))
    return lines


AGGREGATE_COLUMNS = (
    ["month", "scenario", "severity", "incidents"]
    + [f"{kind}_{measure.removesuffix('_s')}_min" for measure in MEASURES for kind in ("median", "mean")]
    + ["deadlines_met", "deadlines_missed"]
)


def aggregate_record(item: Aggregate) -> list[object]:
    figures = [
        item.median_minutes[m] if kind == "median" else item.mean_minutes[m] for m in MEASURES for kind in ("median", "mean")
    ]
    return [
        item.month,
        item.scenario,
        item.severity,
        item.incidents,
        *["" if f is None else f for f in figures],
        item.deadlines_met,
        item.deadlines_missed,
    ]
