"""The view sent as the parts a caller's copy lacks (domain/view_delta.py)."""

import json

import pytest

from domain import view_delta
from domain.statements import StatementKind
from domain.variants import Channel, Variant
from domain.view_delta import (
    MAX_SENT_BYTES,
    TIMELINE_CHUNK,
    ViewDelta,
    Written,
    delta,
    digest,
    encoded,
    encoded_parts,
    joined,
    model_delta,
    names,
    parts,
)
from tests.unit.conftest import SYSTEM, Driver


def assemble(answer: ViewDelta, held: dict[str, str]) -> str | None:
    """The view's JSON text as the API puts it together (api/held_views.py) from an answer and its copy."""
    return joined(names(answer, held), {**held, **{name: encoded(value) for name, value in answer.sent.items()}})


VIEW = {
    "id": "inc-1",
    "phase": "respond",
    "timeline": [{"seq": n, "message": f"event {n}"} for n in range(TIMELINE_CHUNK + 5)],
    "statements": [
        {"version": 1, "text": "We are looking into it.", "variants": [{"channel": "x", "text": "Looking into it."}]},
        {"version": 2, "text": "Fixed.", "variants": []},
    ],
    "pending": [],
}


def digests(held: dict[str, str]) -> dict[str, str]:
    return {name: digest(text) for name, text in held.items()}


def test_a_view_is_cut_into_fields_statements_and_timeline_chunks_and_put_back_together():
    cut = parts(VIEW)
    assert list(cut) == [
        "id",
        "phase",
        *[f"timeline#{n}" for n in range(len(VIEW["timeline"]) // TIMELINE_CHUNK + 1)],
        "statements#0",
        "statements#0/variants",
        "statements#1",
        "statements#1/variants",
        "pending",
    ]
    assert json.loads(assemble(delta(VIEW, {}), {})) == VIEW


def test_only_the_parts_that_changed_since_the_callers_copy_are_sent():
    held = encoded_parts(VIEW)
    approved = {**VIEW["statements"][0], "status": "approved"}
    now = {
        **VIEW,
        "phase": "communicate",
        "timeline": VIEW["timeline"] + [{"seq": 99, "message": "new"}],
        "statements": [approved, VIEW["statements"][1]],
    }

    answer = delta(now, digests(held))

    assert set(answer.sent) == {"phase", f"timeline#{len(VIEW['timeline']) // TIMELINE_CHUNK}", "statements#0"}
    assert json.loads(assemble(answer, held)) == now


def test_a_part_whose_digest_the_caller_has_wrong_is_sent_whole():
    held = encoded_parts(VIEW)
    known = {**digests(held), "statements#1": "0" * 16}

    answer = delta(VIEW, known)

    assert set(answer.sent) == {"statements#1"}
    assert json.loads(assemble(answer, held)) == VIEW


def test_an_answer_naming_a_part_the_caller_does_not_hold_cannot_be_put_together():
    held = encoded_parts(VIEW)
    grown = {**VIEW, "timeline": VIEW["timeline"] + [{"seq": n, "message": "new"} for n in range(TIMELINE_CHUNK)]}
    answer = delta(grown, digests(held))
    assert answer.order is not None
    assert assemble(answer, {name: text for name, text in held.items() if name != "statements#0"}) is None


def test_empty_lists_come_back_empty():
    view = {**VIEW, "timeline": [], "statements": []}
    held = encoded_parts(VIEW)
    assert json.loads(assemble(delta(view, digests(held)), held)) == view


def test_more_to_send_than_the_limit_sends_nothing():
    assert delta(VIEW, {}, limit=100) is None
    assert delta(VIEW, digests(encoded_parts(VIEW)), limit=100) is not None


def test_the_order_is_left_out_when_the_parts_are_the_ones_the_caller_named():
    held = encoded_parts(VIEW)
    changed = {**VIEW, "phase": "communicate"}
    grown = {**VIEW, "timeline": VIEW["timeline"] + [{"seq": n, "message": "new"} for n in range(TIMELINE_CHUNK)]}

    same = delta(changed, digests(held))
    more = delta(grown, digests(held))

    assert same.order is None and json.loads(assemble(same, held)) == changed
    assert more.order == list(parts(grown)) and json.loads(assemble(more, held)) == grown


# ---- the workflow's answer: model_delta with the parts written kept between answers ----------------


def _variants(version: int) -> list[Variant]:
    text = f"Update {version}: we are still securing the account."
    return [
        Variant(channel=Channel.X, text=text, length=len(text), limit=280, unit="characters"),
        Variant(channel=Channel.EMAIL, text=text, length=len(text), limit=5000, unit="characters", title=f"Update {version}"),
    ]


def _answers(drive: Driver, steps: int):
    """After each step of an incident that publishes a statement with its variants at every step
    (the timeline past a dozen chunks), its view and the digests of the API's copy before the step."""
    drive.with_published_holding()
    held: dict[str, str] = {}
    for step in range(steps):
        drive.tick(minutes=10)
        statement = drive.incident.add_statement(
            StatementKind.UPDATE, f"Update {step}", SYSTEM, drive.now, variants=_variants(step)
        )
        drive.approve_all(statement.version)
        drive.publish(statement.version)
        view = drive.incident.view(drive.now)
        yield view, held
        held = digests(encoded_parts(view.model_dump(mode="json")))


def test_the_workflows_answer_is_the_whole_views_delta_byte_for_byte(drive: Driver):
    written = Written()
    earlier: dict[str, str] = {}
    for view, held in _answers(drive, 40):
        whole = view.model_dump(mode="json")
        wrong = {name: ("0" * 16 if name.startswith(("timeline#0", "statements#1/")) else value) for name, value in held.items()}
        for known in (held, {}, earlier, wrong):  # the API's copy, none, one two actions old, one with held parts wrong
            for limit in (MAX_SENT_BYTES, 2_000):
                expected = delta(whole, known, limit)
                answer = model_delta(view, known, written, limit)
                assert (answer and answer.model_dump_json()) == (expected and expected.model_dump_json())
        earlier = held
    assert len(view.timeline) > 12 * TIMELINE_CHUNK


def test_the_parts_written_are_kept_and_only_while_made_of_the_same_objects(drive: Driver):
    written = Written()
    for view, held in _answers(drive, 5):
        model_delta(view, held, written)
    full = len(view.timeline) // TIMELINE_CHUNK
    assert set(written.chunks(view.timeline)) == set(range((len(view.timeline) + TIMELINE_CHUNK - 1) // TIMELINE_CHUNK))
    assert set(written.variants(view.statements)) == set(range(len(view.statements)))
    copies = [event.model_copy() for event in view.timeline]
    assert written.chunks(copies) == {}
    drive.tick(minutes=1)
    drive.incident.add_statement(StatementKind.UPDATE, "More", SYSTEM, drive.now, variants=_variants(99))
    grown = drive.incident.view(drive.now)
    assert len(view.timeline) % TIMELINE_CHUNK and set(written.chunks(grown.timeline)) == set(range(full))  # the last chunk grew


def test_parts_are_encoded_as_json_dumps_encodes_them_so_digests_match_across_versions():
    values = [
        {"b": 1, "a": [1.5, None, True, 'zażółć "gęślą"\n\t\u2028'], "ä": {"z": 1e-05, "y": 1e16}},
        "a string",
        3,
        [],
        {},
    ]
    assert view_delta._ENCODE is not None  # CPython's C encoder, the one the workflow uses, is what is compared
    for value in values:
        assert encoded(value) == json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    with pytest.raises(TypeError):
        encoded({"at": object()})
