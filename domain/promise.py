"""The next-update promise: when the public is told to expect the next update, and how it reads.

The time goes into the statement's text when it is drafted, so it allows for the approvers' window
as well as the cadence, rounded up to a time people can remember. It becomes binding when the
statement is published: the next update's deadline is the promised time itself, so a promise
broken by a slow approval shows as a missed deadline.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

STEP = timedelta(minutes=5)
HOME_ZONES = {"pl": "Europe/Warsaw"}  # where a language's readers need no zone named
_MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "pl": [
        "stycznia",
        "lutego",
        "marca",
        "kwietnia",
        "maja",
        "czerwca",
        "lipca",
        "sierpnia",
        "września",
        "października",
        "listopada",
        "grudnia",
    ],
}


def promise_at(drafted_at: datetime, approval: timedelta, cadence: timedelta) -> datetime:
    """The next update promised by a statement drafted at ``drafted_at``: the approvers' window,
    then the cadence, rounded up to the next five minutes."""
    moment = drafted_at + approval + cadence
    epoch = datetime(2000, 1, 1, tzinfo=moment.tzinfo)
    remainder = (moment - epoch) % STEP
    return moment if not remainder else moment + (STEP - remainder)


def word_promise(moment: datetime, now: datetime, zone: str, language: str) -> str:
    """The promised time as the statement's readers take it, in the organisation's time zone, with
    the date when it is not today there: "15:30 CET", "09:00 CET on 7 December"; in Polish
    "godz. 15:30", "7 grudnia, godz. 9:00" (the zone named only outside Poland's own). Templates
    put it after "by" / "do"."""
    tz = ZoneInfo(zone)
    local, today = moment.astimezone(tz), now.astimezone(tz).date()
    other_day = local.date() != today
    month = _MONTHS.get(language, _MONTHS["en"])[local.month - 1]
    if language == "pl":
        named = "" if HOME_ZONES["pl"] == zone else f" {local.tzname()}"
        clock = f"godz. {local.hour}:{local.minute:02d}{named}"
        return f"{local.day} {month}, {clock}" if other_day else clock
    clock = f"{local:%H:%M} {local.tzname()}"
    return f"{clock} on {local.day} {month}" if other_day else clock
