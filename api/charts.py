"""Charts drawn on the server as inline SVG: no script, no CDN, readable with styles off.

Pure functions from data to markup; every text is escaped.
"""

from datetime import datetime, timedelta
from html import escape

from domain.durations import humanize
from domain.events import EventKind
from domain.incident import IncidentState
from domain.metrics import IncidentMetrics

PHASE_COLOURS = {
    "identify": "#f4c7c3",
    "assess": "#fce8b2",
    "respond": "#b7e1cd",
    "communicate": "#c6dafc",
    "review": "#e1cfee",
    "closed": "#dfe7df",
}
SERIES_COLOURS = ["#3366cc", "#dc3912", "#ff9900", "#109618", "#990099", "#0099c6", "#dd4477", "#66aa00"]
MILESTONES = {
    EventKind.ACKNOWLEDGED: "acknowledged",
    EventKind.ASSESSED: "assessed",
    EventKind.STATEMENT_PUBLISHED: "published",
    EventKind.RESOLVED: "resolved",
    EventKind.REVIEW_SUBMITTED: "review",
}


def _x(moment: datetime, start: datetime, span: float, left: float, width: float) -> float:
    return left + width * max(0.0, min(1.0, (moment - start).total_seconds() / span))


def timeline_chart(state: IncidentState, metrics: IncidentMetrics, end: datetime) -> str:
    """Phases as bands along the incident's life, milestones above, deadlines below (green met,
    red missed, grey otherwise), with the elapsed time on the axis."""
    width, left, right = 960, 20, 20
    inner = width - left - right
    start = state.declared_at
    last = max([end] + [e.at for e in state.timeline])
    span = max((last - start).total_seconds(), 60.0)
    parts = [
        f'<svg id="timeline-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} 230" width="100%" role="img" '
        f'aria-label="Timeline of {escape(state.title)}" font-family="system-ui, sans-serif" font-size="11">'
    ]
    changes = [(e.at, e.data.get("phase", "")) for e in state.timeline if e.kind is EventKind.PHASE_CHANGED]
    bands = [(start, "identify")] + changes
    for index, (at, phase) in enumerate(bands):
        until = bands[index + 1][0] if index + 1 < len(bands) else last
        x0, x1 = _x(at, start, span, left, inner), _x(until, start, span, left, inner)
        parts.append(
            f'<rect class="phase-band" x="{x0:.1f}" y="90" width="{max(x1 - x0, 1):.1f}" height="36"'
            f' fill="{PHASE_COLOURS.get(phase, "#eee")}"><title>{escape(phase)} from {at:%Y-%m-%d %H:%M:%S} UTC</title></rect>'
        )
        if x1 - x0 > 50:
            parts.append(f'<text x="{x0 + 4:.1f}" y="112">{escape(phase)}</text>')
    row = 0
    for event in state.timeline:
        label = MILESTONES.get(event.kind)
        if label is None:
            continue
        x = _x(event.at, start, span, left, inner)
        y = 20 + (row % 4) * 16
        row += 1
        parts.append(
            f'<g class="milestone"><line x1="{x:.1f}" y1="{y + 3}" x2="{x:.1f}" y2="90" stroke="#1d2330" stroke-dasharray="2,2"/>'
            f'<circle cx="{x:.1f}" cy="{y}" r="4" fill="#1d2330"><title>{escape(event.message)}</title></circle>'
            f'<text x="{x + 6:.1f}" y="{y + 4}">{escape(label)} +{escape(humanize(event.at - start))}</text></g>'
        )
    colours = {"met": "#1b7a2f", "missed": "#b00020"}
    for result in metrics.deadlines:
        x = _x(result.due_at, start, span, left, inner)
        colour = colours.get(result.status, "#8a8f99")
        parts.append(
            f'<g class="deadline deadline-{result.status}"><path d="M{x:.1f},130 l-5,10 h10 z" fill="{colour}">'
            f"<title>{escape(result.label)}: {escape(result.status)} (due {result.due_at:%H:%M:%S} UTC)</title></path></g>"
        )
    parts.append(f'<line x1="{left}" y1="160" x2="{left + inner}" y2="160" stroke="#5c6577"/>')
    for tick in range(5):
        x = left + inner * tick / 4
        parts.append(
            f'<line x1="{x:.1f}" y1="157" x2="{x:.1f}" y2="163" stroke="#5c6577"/>'
            f'<text x="{x:.1f}" y="178" text-anchor="{"start" if tick == 0 else "end" if tick == 4 else "middle"}">'
            f"+{escape(humanize(timedelta(seconds=round(span * tick / 4))))}</text>"
        )
    parts.append(
        f'<text x="{left}" y="205">declared {start:%Y-%m-%d %H:%M} UTC · ▲ deadlines: green met, red missed, grey'
        " moot/waived/open</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


def line_chart(chart_id: str, title: str, series: dict[str, list[tuple[datetime, float]]], unit: str = "min") -> str:
    """One line per series over time (x: when, y: the value in ``unit``), with a legend."""
    width, height, left, top, bottom = 720, 260, 60, 30, 60
    inner_w, inner_h = width - left - 20, height - top - bottom
    points = [p for values in series.values() for p in values]
    parts = [
        (
            f'<svg id="{escape(chart_id)}" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}"'
            f' width="100%" role="img" aria-label="{escape(title)}" font-family="system-ui, sans-serif" font-size="11">'
        ),
        f'<text x="{left}" y="18" font-weight="600" font-size="13">{escape(title)}</text>',
    ]
    if not points:
        parts.append(f'<text x="{left}" y="{top + inner_h / 2}">no data yet</text></svg>')
        return "".join(parts)
    first, last = min(p[0] for p in points), max(p[0] for p in points)
    span = max((last - first).total_seconds(), 1.0)
    peak = max(max(p[1] for p in points), 1.0)

    def xy(at: datetime, value: float) -> tuple[float, float]:
        x = left + inner_w * ((at - first).total_seconds() / span if last > first else 0.5)
        return x, top + inner_h * (1 - value / peak)

    parts.append(
        f'<line x1="{left}" y1="{top + inner_h}" x2="{left + inner_w}" y2="{top + inner_h}" stroke="#5c6577"/>'
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + inner_h}" stroke="#5c6577"/>'
    )
    for fraction in (0, 0.5, 1):
        y = top + inner_h * (1 - fraction)
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{peak * fraction:.0f} {escape(unit)}</text>')
    parts.append(
        f'<text x="{left}" y="{top + inner_h + 16}">{first:%Y-%m-%d}</text>'
        f'<text x="{left + inner_w}" y="{top + inner_h + 16}" text-anchor="end">{last:%Y-%m-%d}</text>'
    )
    for index, (name, values) in enumerate(sorted(series.items())):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        coords = [xy(at, value) for at, value in sorted(values)]
        if len(coords) > 1:
            parts.append(
                f'<polyline class="series" fill="none" stroke="{colour}" stroke-width="2"'
                f' points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in coords)}"/>'
            )
        for (x, y), (at, value) in zip(coords, sorted(values), strict=True):
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"><title>{escape(name)} {at:%Y-%m-%d}: {value:.1f}'
                f" {escape(unit)}</title></circle>"
            )
        lx = left + (index % 4) * 165
        ly = top + inner_h + 32 + (index // 4) * 14
        parts.append(
            f'<rect x="{lx}" y="{ly - 8}" width="10" height="10" fill="{colour}"/><text x="{lx + 14}"'
            f' y="{ly + 1}">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
