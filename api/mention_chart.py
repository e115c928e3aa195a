"""The incident's conversation as a server-rendered SVG chart (no script, nothing fetched), for the
incident page and the incident report: mention volume as bars, the negative share as a line, each
published statement as a marker, and the negative share in the hour before and after each one.

``incident_conversation`` reads it for an incident's state; ``conversation_svg`` draws it.
"""

from datetime import datetime, timedelta, timezone

from markupsafe import Markup, escape

from domain.catalog import Catalog
from domain.conversation import STATEMENT_WINDOW, Conversation, Sample, conversation
from domain.incident import IncidentView
from store import mentions as store

WIDTH, HEIGHT = 760, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 48, 22, 30
VOLUME, NEGATIVE, STATEMENT = "#9fb3d9", "#b00020", "#1b7a2f"


def related_topics(catalog: Catalog, incident: IncidentView) -> list[str]:
    """The topic the incident was detected on, else every topic that suggests the incident's playbook."""
    if incident.detection:
        return [incident.detection.topic]
    return [topic.id for topic in catalog.topics if incident.playbook in {topic.playbook, *(k.playbook for k in topic.keywords)}]


async def incident_conversation(
    session, catalog: Catalog, incident: IncidentView, now: datetime | None = None
) -> Conversation | None:
    """The mentions of the incident's topics from an hour before it began until it closed (or now);
    None when no monitored topic relates to it."""
    topics = related_topics(catalog, incident)
    if not topics:
        return None
    now = now or datetime.now(timezone.utc)
    detection = incident.detection
    began = min(filter(None, [detection.first_mention_at if detection else None, incident.declared_at]))
    start, end = began - STATEMENT_WINDOW, incident.closed_at or now
    rows = await store.mention_series(session, topics, start, end)
    samples = [Sample(at=at, scored=scored, negative=negative, reach=reach) for at, scored, negative, reach in rows]
    published = [(s.version, s.kind.value, s.published_at) for s in incident.statements if s.published_at]
    talk = conversation(topics, samples, start, end, published, now)
    if detection is not None:
        talk.detected_after = detection.detected_at - detection.first_mention_at
        talk.declared_after = incident.declared_at - detection.first_mention_at
    return talk


def _time_label(at: datetime, width: timedelta) -> str:
    return at.strftime("%H:%M" if width < timedelta(hours=1) else "%d %b %H:%M")


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def conversation_svg(talk: Conversation) -> Markup:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = (talk.points[-1].start + talk.width - talk.start) if talk.points else talk.width
    peak = max(talk.peak, 1)
    bar_w = plot_w / max(len(talk.points), 1)

    def x_of(at: datetime) -> float:
        return LEFT + plot_w * ((at - talk.start) / span)

    def y_of_share(share: float) -> float:
        return TOP + plot_h * (1 - share)

    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="conversation-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
            'role="img" aria-label="Mentions and negative share over time">'
        ),
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fff" stroke="#e3e6eb"/>',
    ]
    for index, point in enumerate(talk.points):
        height = plot_h * point.count / peak
        x = LEFT + index * bar_w
        tip = f"{_time_label(point.start, talk.width)} · {point.count} mentions · {percent(point.negative_share)} negative"
        parts.append(
            f'<rect class="volume" x="{x:.1f}" y="{TOP + plot_h - height:.1f}" width="{max(bar_w - 1, 0.5):.1f}" '
            f'height="{height:.1f}" fill="{VOLUME}"><title>{escape(tip)}</title></rect>'
        )
    line = [
        f"{LEFT + (index + 0.5) * bar_w:.1f},{y_of_share(point.negative_share):.1f}"
        for index, point in enumerate(talk.points)
        if point.negative_share is not None
    ]
    if line:
        parts.append(
            f'<polyline class="negative-share" points="{" ".join(line)}" fill="none" stroke="{NEGATIVE}" stroke-width="1.6"/>'
        )
    for effect in talk.statements:
        x = x_of(effect.published_at)
        tip = (
            f"Statement v{effect.version} ({effect.kind}) published {effect.published_at:%H:%M} UTC: negative "
            f"{percent(effect.before)} in the hour before, {percent(effect.after)} after"
        )
        parts.append(
            f'<g class="statement" data-version="{effect.version}"><line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{TOP + plot_h}"'
            f' stroke="{STATEMENT}" stroke-width="1.5" stroke-dasharray="4 3"/><text x="{x + 3:.1f}" y="{TOP + 11}"'
            f' font-size="11" fill="{STATEMENT}">v{effect.version}</text><title>{escape(tip)}</title></g>'
        )
    axis = 'font-size="10" fill="#5c6577"'
    parts += [
        f'<text x="{LEFT - 4}" y="{TOP + 8}" text-anchor="end" {axis}>{talk.peak}</text>',
        f'<text x="{LEFT - 4}" y="{TOP + plot_h}" text-anchor="end" {axis}>0</text>',
        f'<text x="{WIDTH - RIGHT + 4}" y="{TOP + 8}" font-size="10" fill="{NEGATIVE}">100%</text>',
        f'<text x="{WIDTH - RIGHT + 4}" y="{TOP + plot_h}" {axis}>0%</text>',
        f'<text x="{LEFT}" y="{HEIGHT - 10}" {axis}>{_time_label(talk.start, talk.width)}</text>',
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 10}" text-anchor="end" {axis}>{_time_label(talk.end, talk.width)} UTC</text>',
        (
            f'<text x="{LEFT + plot_w / 2:.0f}" y="{HEIGHT - 10}" text-anchor="middle" {axis}>mentions per '
            f"{_width_label(talk.width)} (bars) · negative share (line) · statements (dashed)</text>"
        ),
        "</svg>",
    ]
    return Markup("".join(parts))


def _width_label(width: timedelta) -> str:
    minutes = int(width.total_seconds() // 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h"


def replies_svg(version: int, replies: dict) -> Markup:
    """One statement's replies as a bar: negative (red), the rest scored (blue), unscored (grey)."""
    total = max(replies["replies"], 1)
    scored, negative = replies["scored"], replies["negative"]
    label = (
        f"Statement v{version}: {replies['replies']} replies and quotes, {negative} negative, "
        f"{scored - negative} not negative, {replies['replies'] - scored} not scored"
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="replies-chart" data-version="{version}" viewBox="0 0 {WIDTH} 28"'
        f' width="100%" role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>'
    ]
    x = 0.0
    for name, count, colour in (
        ("negative", negative, NEGATIVE),
        ("other", scored - negative, VOLUME),
        ("unscored", replies["replies"] - scored, "#d5d9e0"),
    ):
        width = WIDTH * count / total
        if count:
            parts.append(
                f'<rect class="{name}" data-count="{count}" x="{x:.1f}" y="4" width="{width:.1f}" height="20" fill="{colour}"/>'
            )
        x += width
    parts.append("</svg>")
    return Markup("".join(parts))
