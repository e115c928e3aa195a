"""The view sent as the parts a caller's copy lacks (domain/view_delta.py)."""

import json

from domain.view_delta import TIMELINE_CHUNK, assemble, delta, digest, encoded_parts, parts

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
