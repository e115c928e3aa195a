"""The last view of each incident this API process read or answered with, as the parts and digests
of ``domain/view_delta.py``: an action sends the digests, and its Update answers with the parts that
changed since (#22 item 3), so the answer needs no state query after it.

Per process and bounded (``HELD_INCIDENTS``, least recently used out): a copy that is missing,
evicted or out of date only makes the Update send more, or nothing, in which case the API reads the
state as before. It is never trusted blindly: a part is left out of an answer only when its digest
now is the digest this copy holds."""

from collections import OrderedDict
from dataclasses import dataclass

from domain.incident import IncidentView
from domain.view_delta import ViewDelta, digest, encoded, encoded_parts, joined, names

HELD_INCIDENTS = 256  # each held as its view's JSON text: about 180 KB for a SEV1 outage a day old, a few KB when young


@dataclass(frozen=True)
class HeldView:
    parts: dict[str, str]  # name → the part's JSON
    digests: dict[str, str]


class HeldViews:
    def __init__(self, size: int = HELD_INCIDENTS) -> None:
        self._size = size
        self._views: OrderedDict[str, HeldView] = OrderedDict()

    def get(self, incident: str) -> HeldView | None:
        held = self._views.get(incident)
        if held is not None:
            self._views.move_to_end(incident)
        return held

    def _put(self, incident: str, cut: dict[str, str], digests: dict[str, str]) -> None:
        self._views[incident] = HeldView(cut, digests)
        self._views.move_to_end(incident)
        while len(self._views) > self._size:
            self._views.popitem(last=False)

    def hold(self, incident: str, view: IncidentView) -> None:
        cut = encoded_parts(view.model_dump(mode="json"))
        self._put(incident, cut, {name: digest(text) for name, text in cut.items()})

    def answered(self, incident: str, answer: ViewDelta, held: HeldView | None) -> str | None:
        """The incident's view as JSON text, from an Update's answer and the copy its action named
        (``held``), kept as the new copy; None when the answer left out a part that copy does not have."""
        known = held or HeldView({}, {})
        sent = {name: encoded(value) for name, value in answer.sent.items()}
        order = names(answer, known.parts)
        text = joined(order, {**known.parts, **sent})
        if text is None:
            return None
        self._put(
            incident,
            {name: sent.get(name) or known.parts[name] for name in order},
            {name: digest(sent[name]) if name in sent else known.digests[name] for name in order},
        )
        return text
