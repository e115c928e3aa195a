"""The incident's view sent as what changed since a copy the caller holds (#22 item 3).

A person's action is answered with the whole incident, and an Update's result is the one answer
that needs no second round trip to the worker. Every Update's result is stored in the incident's
history, though, and the view is large (a SEV1 outage's is about 180 KB after a day, mostly its
statements' channel variants and its timeline), so the result carries only the parts of the view
the caller does not already hold. The view's JSON is cut into parts: each top-level field, each
statement, and the timeline in chunks of ``TIMELINE_CHUNK`` events (it only grows at its end, so
all chunks but the last stay the same). The caller sends the digests of the parts it holds with
the action (``Action.known``); the workflow answers with the parts whose digest differs, and the
names of the ones it left out, in order. Nothing relies on the caller's copy being current: a
part is left out only when the caller's digest of it is the digest of its value now.
"""

import hashlib
import json
from typing import Any

from pydantic import BaseModel, Field

TIMELINE_CHUNK = 16
SPLIT = {"timeline": TIMELINE_CHUNK, "statements": 1}  # list fields cut into parts of this many items
# An item's field in a part of its own: a statement's channel variants, most of its size, never change
# once it is drafted, while its decisions and status do.
APART = {"statements": "variants"}
MAX_SENT_BYTES = 32 * 1024  # a larger delta is not sent (the caller reads the state instead): it would stay in history


class ViewDelta(BaseModel):
    """The view as parts: ``sent`` the ones the caller did not hold as they are, ``order`` every
    part's name in order (a name not in ``sent`` is one the caller holds unchanged), or none when
    the parts are the ones the caller named, in its order."""

    order: list[str] | None = None
    sent: dict[str, Any] = Field(default_factory=dict)


def parts(view: dict[str, Any]) -> dict[str, Any]:
    """The view's JSON (``model_dump(mode="json")``) cut into named parts, in order."""
    cut: dict[str, Any] = {}
    for name, value in view.items():
        size = SPLIT.get(name)
        if size is None:
            cut[name] = value
        else:
            for start in range(0, len(value), size):
                chunk = value[start : start + size]
                apart = APART.get(name)
                if apart and size == 1 and isinstance(chunk[0], dict) and apart in chunk[0]:
                    cut[f"{name}#{start}"] = [{key: item for key, item in chunk[0].items() if key != apart}]
                    cut[f"{name}#{start}/{apart}"] = chunk[0][apart]
                else:
                    cut[f"{name}#{start // size}"] = chunk
    return cut


def encoded(value: Any) -> str:
    """A part's JSON, the same text for the same value on either side (what its digest is of)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def encoded_parts(view: dict[str, Any]) -> dict[str, str]:
    return {name: encoded(value) for name, value in parts(view).items()}


def delta(view: dict[str, Any], known: dict[str, str], limit: int = MAX_SENT_BYTES) -> ViewDelta | None:
    """What to send a caller holding the parts ``known`` (name → digest); None when the parts to
    send come to more than ``limit`` bytes of JSON."""
    sent: dict[str, Any] = {}
    size = 0
    cut = parts(view)
    for name, value in cut.items():
        text = encoded(value)
        if known.get(name) == digest(text):
            continue
        size += len(text)
        if size > limit:
            return None
        sent[name] = value
    return ViewDelta(order=None if list(cut) == list(known) else list(cut), sent=sent)


def names(answer: ViewDelta, held: dict[str, str]) -> list[str]:
    """Every part's name in the view ``answer`` describes, in order."""
    return list(held) if answer.order is None else answer.order


def assemble(answer: ViewDelta, held: dict[str, str]) -> str | None:
    """The view's JSON text from ``answer`` and the parts the caller held (as ``encoded_parts``
    gives them); None when a part left out is not among them."""
    fields: dict[str, str | list[str]] = {name: [] for name in SPLIT}
    for name in names(answer, held):
        text = encoded(answer.sent[name]) if name in answer.sent else held.get(name)
        if text is None:
            return None
        field, _, index = name.partition("#")
        _, _, apart = index.partition("/")
        if apart:  # the field kept apart, put back into the item just before it
            item = fields[field][-1]
            fields[field][-1] = f"{item[:-1]}{',' if item != '{}' else ''}{json.dumps(apart)}:{text}}}"
        elif index:
            fields[field].append(text[1:-1])  # a chunk's items, without its brackets (a chunk is never empty)
        else:
            fields[field] = text
    return (
        "{"
        + ",".join(
            f"{json.dumps(name)}:{'[' + ','.join(value) + ']' if isinstance(value, list) else value}"
            for name, value in fields.items()
        )
        + "}"
    )
