"""The conversation during an incident: mention volume and negative share over time, and whether
each published statement calmed it (the negative share in the hour before and the hour after)."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.durations import humanize
from domain.listening import bucket_start

STATEMENT_WINDOW = timedelta(hours=1)
MAX_POINTS = 120
_WIDTHS = [timedelta(minutes=m) for m in (1, 5, 15, 30, 60, 180, 360, 720, 1440)]


@dataclass(frozen=True)
class Sample:
    """One stored mention, as the chart needs it."""

    at: datetime
    scored: bool
    negative: bool
    reach: int


@dataclass
class Point:
    start: datetime
    count: int = 0
    scored: int = 0
    negative: int = 0

    @property
    def negative_share(self) -> float | None:
        return self.negative / self.scored if self.scored else None


@dataclass
class StatementEffect:
    version: int
    kind: str
    published_at: datetime
    before: float | None  # negative share in the hour before; None when nothing scored was said
    after: float | None
    before_count: int
    after_count: int
    after_complete: bool  # False while the hour after has not passed yet

    @property
    def change(self) -> float | None:
        return None if self.before is None or self.after is None else self.after - self.before


@dataclass
class Conversation:
    topics: list[str]
    start: datetime
    end: datetime
    width: timedelta
    points: list[Point]
    statements: list[StatementEffect] = field(default_factory=list)
    mentions: int = 0
    reach: int = 0
    first_mention_at: datetime | None = None
    detected_after: timedelta | None = None  # from the surge's first mention to its detection (opened from a signal)
    declared_after: timedelta | None = None  # from that first mention to the declaration

    @property
    def time_to_detect(self) -> str | None:
        return None if self.detected_after is None else humanize(self.detected_after)

    @property
    def time_to_declare(self) -> str | None:
        return None if self.declared_after is None else humanize(self.declared_after)

    @property
    def peak(self) -> int:
        return max((point.count for point in self.points), default=0)


def bucket_width(start: datetime, end: datetime) -> timedelta:
    """The narrowest bucket that draws the window in at most :data:`MAX_POINTS` bars."""
    span = end - start
    return next((width for width in _WIDTHS if span / width <= MAX_POINTS), _WIDTHS[-1])


def _share(samples: list[Sample]) -> tuple[float | None, int]:
    scored = [sample for sample in samples if sample.scored]
    return (sum(sample.negative for sample in scored) / len(scored) if scored else None), len(samples)


def conversation(
    topics: list[str],
    samples: list[Sample],
    start: datetime,
    end: datetime,
    published: list[tuple[int, str, datetime]],
    now: datetime,
) -> Conversation:
    """Bucket the samples (oldest first) over [start, end] and judge each published statement
    (version, kind, published_at)."""
    width = bucket_width(start, end)
    first = bucket_start(start, width)
    points = []
    at = first
    while at <= end:
        points.append(Point(start=at))
        at += width
    for sample in samples:
        index = int((sample.at - first) / width)
        if 0 <= index < len(points):
            point = points[index]
            point.count += 1
            point.scored += sample.scored
            point.negative += sample.scored and sample.negative
    effects = []
    for version, kind, published_at in published:
        before, before_count = _share([s for s in samples if published_at - STATEMENT_WINDOW <= s.at < published_at])
        after, after_count = _share([s for s in samples if published_at <= s.at < published_at + STATEMENT_WINDOW])
        effects.append(
            StatementEffect(
                version,
                kind,
                published_at,
                before,
                after,
                before_count,
                after_count,
                after_complete=published_at + STATEMENT_WINDOW <= now,
            )
        )
    return Conversation(
        topics=topics,
        start=first,
        end=end,
        width=width,
        points=points,
        statements=effects,
        mentions=len(samples),
        reach=sum(sample.reach for sample in samples),
        first_mention_at=samples[0].at if samples else None,
    )
