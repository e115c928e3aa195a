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

The workflow answers every action, inside the workflow task of its Update, so it does not dump,
encode and hash again the parts that cannot have changed since its last answer (``Written``,
``model_delta``): the answer is the one ``delta`` gives for the whole view, byte for byte.
"""

import hashlib
import json
from collections.abc import Callable, Sequence
from json.encoder import c_make_encoder, encode_basestring
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


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON")


# json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False) without building an
# encoder at each call: in the workflow task, the sandbox wraps ``isinstance``, which the pure-Python
# encoder calls for every part, and makes each call several times dearer.
_ENCODE = c_make_encoder(None, _refuse, encode_basestring, None, ":", ",", True, False, True) if c_make_encoder else None


def encoded(value: Any) -> str:
    """A part's JSON, the same text for the same value on either side (what its digest is of)."""
    if _ENCODE is None:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "".join(_ENCODE(value, 0))


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


class Written:
    """The digests of the view's parts that stay as they were written, kept from one answer to the
    next by the workflow run that owns the incident: each chunk of the timeline (within a run the
    timeline only grows at its end, and an event is never changed) and each statement's channel
    variants (set when the statement is drafted, never changed). A digest is used again only while
    its part is made of the very same objects; a part that is not is dumped, encoded and hashed."""

    def __init__(self) -> None:
        self._chunks: dict[int, tuple[tuple[object, ...], str]] = {}  # chunk index → its events, digest
        self._variants: dict[int, tuple[object, tuple[object, ...], str]] = {}  # statement index → the list, its items, digest

    @staticmethod
    def _same(kept: tuple[object, ...], now: Sequence[object]) -> bool:
        return len(kept) == len(now) and all(a is b for a, b in zip(kept, now, strict=True))

    def chunks(self, events: Sequence[object]) -> dict[int, str]:
        """Digests of the timeline chunks still made of the same events (chunk index → digest)."""
        held = {}
        for index, (kept, text_digest) in self._chunks.items():
            start = index * TIMELINE_CHUNK
            if self._same(kept, events[start : start + TIMELINE_CHUNK]):
                held[index] = text_digest
        return held

    def variants(self, statements: Sequence[Any]) -> dict[int, str]:
        """Digests of the statements' variants still the same list of the same items (statement index → digest)."""
        held = {}
        for index, (kept, items, text_digest) in self._variants.items():
            if index < len(statements) and statements[index].variants is kept and self._same(items, kept):
                held[index] = text_digest
        return held

    def keep_chunk(self, index: int, events: Sequence[object], text_digest: str) -> None:
        self._chunks[index] = (tuple(events), text_digest)

    def keep_variants(self, index: int, variants: list, text_digest: str) -> None:
        self._variants[index] = (variants, tuple(variants), text_digest)


def model_delta(view: BaseModel, known: dict[str, str], written: Written, limit: int = MAX_SENT_BYTES) -> ViewDelta | None:
    """``delta(view.model_dump(mode="json"), known, limit)``, the same answer, with the parts ``written``
    holds neither dumped, encoded nor hashed again (only dumped when the caller lacks one)."""
    events, statements = view.timeline, view.statements
    chunks, variants = written.chunks(events), written.variants(statements)
    exclude: dict[str, Any] = {}
    if chunks:
        exclude["timeline"] = {i for index in chunks for i in _chunk_indices(index, len(events))}
    if variants:
        exclude["statements"] = {index: {"variants"} for index in variants}
    dumped = view.model_dump(mode="json", exclude=exclude or None)

    # name → its value (for a held part: how to dump it, should the caller lack it), its digest when
    # held, and what keeps its digest once computed
    cut: dict[str, tuple[Any, str | None, Callable[[str], None] | None]] = {}
    for name, value in dumped.items():
        if name == "timeline":
            rest = iter(value)
            for index in range((len(events) + TIMELINE_CHUNK - 1) // TIMELINE_CHUNK):
                chunk = events[index * TIMELINE_CHUNK : (index + 1) * TIMELINE_CHUNK]
                if index in chunks:
                    cut[f"timeline#{index}"] = (_dump_events(view, index), chunks[index], None)
                else:
                    items = [next(rest) for _ in chunk]
                    cut[f"timeline#{index}"] = (
                        items,
                        None,
                        lambda text_digest, i=index, c=chunk: written.keep_chunk(i, c, text_digest),
                    )
        elif name == "statements":
            for index, item in enumerate(value):
                cut[f"statements#{index}"] = ([{key: field for key, field in item.items() if key != "variants"}], None, None)
                if index in variants:
                    cut[f"statements#{index}/variants"] = (_dump_variants(view, index), variants[index], None)
                else:
                    kept = statements[index].variants
                    cut[f"statements#{index}/variants"] = (
                        item["variants"],
                        None,
                        lambda text_digest, i=index, k=kept: written.keep_variants(i, k, text_digest),
                    )
        else:
            cut[name] = (value, None, None)

    sent: dict[str, Any] = {}
    size = 0
    for name, (value, held_digest, keep) in cut.items():
        if held_digest is None:
            text = encoded(value)
            text_digest = digest(text)
            if keep is not None:
                keep(text_digest)
        else:
            text_digest = held_digest
        if known.get(name) == text_digest:
            continue
        if held_digest is not None:  # the caller lacks a part held here: dumped after all
            value = value()
            text = encoded(value)
        size += len(text)
        if size > limit:
            return None
        sent[name] = value
    return ViewDelta(order=None if list(cut) == list(known) else list(cut), sent=sent)


def _chunk_indices(index: int, length: int) -> range:
    """A chunk's indices in a timeline of ``length`` events: never past its end, since pydantic takes
    an index past the end of a list as counted from its start again."""
    return range(index * TIMELINE_CHUNK, min((index + 1) * TIMELINE_CHUNK, length))


def _dump_events(view: BaseModel, index: int) -> Callable[[], Any]:
    indices = set(_chunk_indices(index, len(view.timeline)))
    return lambda: view.model_dump(mode="json", include={"timeline": indices})["timeline"]


def _dump_variants(view: BaseModel, index: int) -> Callable[[], Any]:
    return lambda: view.model_dump(mode="json", include={"statements": {index: {"variants"}}})["statements"][0]["variants"]


def names(answer: ViewDelta, held: dict[str, str]) -> list[str]:
    """Every part's name in the view ``answer`` describes, in order."""
    return list(held) if answer.order is None else answer.order


def joined(order: list[str], texts: dict[str, str]) -> str | None:
    """The view's JSON text from its parts' texts, in ``order``; None when one of them is missing."""
    fields: dict[str, str | list[str]] = {name: [] for name in SPLIT}
    for name in order:
        text = texts.get(name)
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
