"""Times as people read them on pages and in reports: no ISO ``T``, no microseconds, the zone named."""

from datetime import datetime, timezone


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive time (as SQLite gives them back) is taken to be UTC already."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def readable(moment: datetime | str | None, seconds: bool = True) -> str:
    """``2026-12-06 11:41:02 UTC`` from a datetime or the ISO text the API answers with; ``—`` for
    no time at all."""
    if moment is None or moment == "":
        return "—"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return f"{utc(moment):%Y-%m-%d %H:%M{':%S' if seconds else ''}} UTC"


def clock_time(moment: datetime, day: datetime) -> str:
    """The time of day, with the date in front when it falls on another (UTC) day than ``day``:
    report tables read ``11:41:02``, and ``2026-12-11 11:41:02`` for a review due days later."""
    moment = utc(moment)
    return f"{moment:%H:%M:%S}" if moment.date() == utc(day).date() else f"{moment:%Y-%m-%d %H:%M:%S}"
