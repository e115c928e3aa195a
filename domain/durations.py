"""Durations as playbook authors write them: ``90s``, ``5m``, ``2h``, ``3d``.

The same compact form is used when a playbook is serialised (into workflow input, JSON Schema,
API answers), so the plan pinned in a workflow's history reads like the YAML it came from.
"""

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PATTERN = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")


def parse_duration(value: object) -> object:
    """Turn ``"5m"`` into ``timedelta(minutes=5)``; leave other values to pydantic."""
    if isinstance(value, str):
        match = _PATTERN.match(value)
        if match:
            amount, unit = match.groups()
            if int(amount) == 0:
                raise ValueError("a duration must be longer than zero")
            try:
                return timedelta(seconds=int(amount) * _UNITS[unit])
            except OverflowError:
                raise ValueError(f"'{value}' is too long to be a duration") from None
        raise ValueError(f"'{value}' is not a duration; write it as 90s, 5m, 2h or 3d")
    if isinstance(value, int | float):
        raise ValueError("write durations with a unit: 90s, 5m, 2h or 3d")
    return value


def format_duration(value: timedelta) -> str:
    """The largest unit that divides the duration exactly: 5400s -> ``90m``."""
    seconds = int(value.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


def humanize(value: timedelta) -> str:
    """Readable form for people: ``1 h 30 min``."""
    seconds = int(value.total_seconds())
    parts = []
    for label, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size} {label}")
            seconds %= size
    return " ".join(parts) or "0 s"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^\d+[smhd]$", "examples": ["90s", "5m", "2h", "3d"]}),
]
