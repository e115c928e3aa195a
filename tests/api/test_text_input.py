"""Control characters never get in (issue 16 #8): a NUL anywhere, or a line break in anything that
becomes a subject, a header, a name or a title, is refused with 422 naming the field, in every
request body the API describes, in the mention batches, in the action-link forms and in the
playbooks folder. Line breaks and tabs stay allowed in long texts."""

import re

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from channels.base import redact
from domain.actions import StatementDecision, StatementDraft
from domain.safe_text import refusal
from services.declare import Declaration
from tests.api.conftest import BASE_URL
from tests.api.test_abuse import _mint

# Every string field of a request body that may hold line breaks; any other must refuse them.
LONG_TEXTS = {
    "summary",
    "text",
    "note",
    "comment",
    "reason",
    "went_well",
    "went_badly",
    "answers",
    "what_happened",
    "who_is_affected",
    "what_we_are_doing",
    "what_to_do",
    "remedy",  # the public fact sheet
    "short",  # a statement's short form (posts on X, Bluesky, Mastodon keep their line breaks)
}
CONTROLS = ["\x00", "\x01", "\x07", "\x1b", "\x7f", "\x85", "\x9b"]


@pytest.mark.parametrize("character", CONTROLS)
def test_control_characters_are_refused_in_one_line_and_long_texts(character):
    assert refusal(f"a{character}b", multiline=False) is not None
    assert refusal(f"a{character}b", multiline=True) is not None


@pytest.mark.parametrize(
    "text", ["two\nlines", "two\r\nlines", "carriage\rreturn", "tab\tstop", "line\u2028separator", "para\u2029graph"]
)
def test_line_breaks_are_refused_in_one_line_texts(text):
    assert "single line" in refusal(text, multiline=False) or "control" in refusal(text, multiline=False)


@pytest.mark.parametrize("text", ["two\nlines", "two\r\nlines", "tab\tstop", "Zażółć gęślą jaźń — «quoted» 🚨"])
def test_long_texts_keep_line_breaks_tabs_and_any_printable_text(text):
    assert refusal(text, multiline=True) is None


def test_the_refusal_names_the_character_and_where_it_is():
    assert refusal("Outage\x00", multiline=False) == "must not contain control characters: U+0000 (NUL) at position 6"
    assert refusal("Outage\nBcc: x", multiline=False) == "must be a single line: a line break U+000A (line feed) at position 6"


def _strings(schema: dict, components: dict, path: str):
    """(path, string schema) for every string a request body schema can hold."""
    if "$ref" in schema:
        yield from _strings(components[schema["$ref"].rsplit("/", 1)[-1]], components, path)
        return
    for choice in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        yield from _strings(choice, components, path)
    if schema.get("type") == "string":
        yield path, schema
    for name, child in schema.get("properties", {}).items():
        yield from _strings(child, components, f"{path}.{name}")
    if isinstance(schema.get("items"), dict):
        yield from _strings(schema["items"], components, f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _strings(schema["additionalProperties"], components, f"{path}{{}}")
    if isinstance(schema.get("propertyNames"), dict):
        yield from _strings(schema["propertyNames"], components, f"{path}{{key}}")


def test_every_string_of_every_request_body_refuses_control_characters(app):
    """The API's own description, walked: a new body field without the shared text types fails here."""
    described = app.openapi()
    components = described["components"]["schemas"]
    checked = 0
    for route, operations in described["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            for media in content.values():
                for path, schema in _strings(media["schema"], components, f"{method.upper()} {route} body"):
                    checked += 1
                    if "enum" in schema or schema.get("format") in ("date", "date-time"):
                        continue
                    assert "pattern" in schema, f"{path}: no pattern keeps control characters out"
                    pattern = re.compile(schema["pattern"])
                    assert not pattern.search("a\x00b") and not pattern.search("a\x1bb"), f"{path}: takes control characters"
                    field = path.rsplit(".", 1)[-1].split("[")[0].split("{")[0]
                    if field not in LONG_TEXTS:
                        assert not pattern.search("a\nb") and not pattern.search("a\rb"), f"{path}: takes a line break"
    assert checked >= 60


@pytest.mark.parametrize(
    "route, body, field",
    [
        ("/incidents", {"playbook": "technical_outage", "title": "Outage\x00", "summary": "s"}, "title"),
        ("/incidents", {"playbook": "technical_outage", "title": "Outage\r\nBcc: all@example.com", "summary": "s"}, "title"),
        ("/incidents", {"playbook": "technical_outage", "title": "Outage", "summary": "first\x1b[2Jline"}, "summary"),
        ("/incidents/inc-1/statements", {"person": "ewa\x00", "text": "We are on it."}, "person"),
        ("/incidents/inc-1/statements", {"person": "ewa", "text": "We are\x00 on it."}, "text"),
        ("/incidents/inc-1/assessment", {"person": "ewa", "facts": ["one", "two\nthree"]}, "facts"),
        (
            "/incidents/inc-1/review",
            {"person": "ewa", "summary": "ok", "action_items": [{"title": "a\nb", "owner": "ewa"}]},
            "action_items",
        ),
        ("/incidents/inc-1/subscribers", {"email": "a\x00@example.com"}, "email"),
        ("/incidents/inc-1/subscribers", {"email": "a@example.com", "name": "Ann\nBcc: x"}, "name"),
        ("/drills", {"playbook": "misinformation", "title": "Drill\x07"}, "title"),
        ("/signals/s-1/dismiss", {"person": "ewa", "reason": "noise\x00"}, "reason"),
    ],
)
def test_a_control_character_in_a_body_is_422_naming_the_field(admin, route, body, field):
    answer = admin.post(route, json=body)
    assert answer.status_code == 422, answer.text
    problem = answer.json()["detail"][0]
    assert field in problem["loc"] and (
        "control characters" in problem["msg"] or "single line" in problem["msg"] or "pattern" in problem["msg"]
    )


def test_long_texts_keep_their_line_breaks_and_titles_their_words():
    declared = Declaration(
        playbook="technical_outage", title="Checkout down", summary="Since 09:40:\r\n- card payments fail\n\tsee the dashboard"
    )
    assert declared.summary.count("\n") == 2
    assert StatementDraft(person="ewa", text="We are on it.\n\nNext update at 11:00.").text.endswith("11:00.")
    with pytest.raises(ValidationError, match="comment"):
        StatementDecision(person="ewa", decision="approve", comment="fine\x00")


def test_a_mention_with_a_control_character_refuses_its_batch_naming_item_and_field(admin):
    mention = {
        "platform": "x",
        "external_id": "1",
        "author": "someone",
        "text": "hi",
        "url": "https://x.example/1",
        "created_at": "2026-12-01T09:00:00Z",
    }
    answer = admin.post("/mentions", json=[mention, {**mention, "external_id": "2", "author": "evil\x1b[31m"}])
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("mentions.1.author: must not contain control characters: U+001B")
    assert admin.post("/mentions", json=[{**mention, "url": "https://x.example/\x00"}]).status_code == 422


def test_an_approval_form_with_a_control_character_changes_nothing_and_keeps_the_link(app):
    with TestClient(app, base_url=BASE_URL) as browser:
        token = _mint(app, purpose="approve")
        answer = browser.post(f"/a/{token}", data={"decision": "approve", "comment": "fine\x00"}, headers={"origin": "null"})
        assert answer.status_code == 422 and "comment: must not contain control characters" in answer.text
        assert browser.get(f"/a/{token}").status_code != 403  # the link was not spent
        assert "already used" not in browser.get(f"/a/{token}").text


def test_provider_text_we_cannot_refuse_is_stored_without_its_control_characters():
    reason = redact("550 5.1.1 <ann@example.com>\x00 mailbox\r\nunknown\x1b[0m")
    assert reason == "550 5.1.1 <<email>>  mailbox  unknown [0m" and refusal(reason, multiline=False) is None


def _refusal_character_by_character(value: str, multiline: bool) -> str | None:
    """The rule as first written: every character looked at in turn."""
    import unicodedata

    for position, character in enumerate(value):
        if multiline and character in "\t\n\r":
            continue
        if character in "\n\r\u2028\u2029":
            return f"must be a single line: a line break at position {position}"
        if unicodedata.category(character) == "Cc":
            return f"must not contain control characters: at position {position}"
    return None


def test_the_quick_screen_refuses_exactly_what_the_character_rule_refuses():
    """refusal() looks for suspects with a regular expression first: each code point up to U+2FFF
    (every control character and separator is among them) and a spread of the rest, alone and after
    printable text and a tab, gets the verdict (and the position) of the character-by-character rule."""
    for code in [*range(0x3000), *range(0x3000, 0x110000, 251)]:
        if 0xD800 <= code <= 0xDFFF:
            continue
        for text in (chr(code), f"ab\t{chr(code)}c"):
            for multiline in (False, True):
                expected = _refusal_character_by_character(text, multiline)
                got = refusal(text, multiline=multiline)
                assert (got is None) == (expected is None), (hex(code), multiline)
                if got is not None:
                    assert got.split(": ")[0] == expected.split(": ")[0], (hex(code), multiline)
                    assert got.endswith(expected.rsplit(" ", 1)[1]), (hex(code), multiline)


def test_a_json_body_is_cleared_only_when_no_string_in_it_can_be_refused():
    """POST /mentions skips the per-string checks for a body json_may_hold_refused_text clears:
    every code point that either kind of text refuses, in a string encoded every way JSON allows
    (escaped or raw UTF-8, upper- or lower-case hex), keeps the body from being cleared."""
    import json

    from domain.safe_text import json_may_hold_refused_text

    for code in [*range(0x3000), *range(0x3000, 0x110000, 251)]:
        if 0xD800 <= code <= 0xDFFF:
            continue
        text = f"ab\t{chr(code)}c" if code != ord("\t") else "ab\tc"
        refused = refusal(text, multiline=False) is not None or refusal(text, multiline=True) is not None
        escaped = json.dumps([{"text": text}]).encode()
        bodies = [
            escaped,
            re.sub(rb"\\u([0-9a-f]{4})", lambda hex_digits: b"\\u" + hex_digits[1].upper(), escaped),
            json.dumps([{"text": text}], ensure_ascii=False).encode(),
        ]
        if code < 0x10000:  # every character as a \uXXXX escape, \n and \t too
            bodies.append(('[{"text": "' + "".join(f"\\u{ord(each):04x}" for each in text) + '"}]').encode())
        for body in bodies:
            assert json.loads(body) == [{"text": text}]
            if refused:
                assert json_may_hold_refused_text(body), (hex(code), body)
    assert not json_may_hold_refused_text(
        json.dumps([{"text": "Kawa w Northwind dziś świetna 🙂", "url": "https://a/b?c"}]).encode()
    )
    assert not json_may_hold_refused_text(json.dumps([{"text": "dziś"}], ensure_ascii=False).encode())
    assert json_may_hold_refused_text('[{"text": "plain"}]'.encode("utf-16"))  # not UTF-8: not cleared


def test_a_cleared_batch_validates_as_a_checked_one():
    """The model without the text checks gives what the checked one gives, errors included, for
    anything but a refused character (which the screen above keeps for the checked model)."""
    from pydantic import ValidationError

    from api.mentions import _BATCH, _CLEARED_BATCH

    good = {
        "platform": " X ",
        "external_id": "1",
        "author": " someone ",
        "text": "  hi\there ",
        "url": "https://x.example/1",
        "created_at": "2026-12-01T09:00:00+01:00",
        "language": "pl",
        "reach": 5,
        "topic": " brand ",
        "extra": "ignored",
    }
    bad = [
        {**good, "platform": ""},
        {**good, "author": "a" * 201},
        {**good, "text": 5},
        {**good, "topic": "t" * 101},
        {**good, "url": "ftp://x"},
        {**good, "created_at": "2026-12-01T09:00:00"},
        {**good, "reach": -1},
        {**good, "language": "polish!"},
        {key: value for key, value in good.items() if key != "author"},
    ]
    assert [m.model_dump() for m in _CLEARED_BATCH.validate_python([good, {**good, "topic": None}])] == [
        m.model_dump() for m in _BATCH.validate_python([good, {**good, "topic": None}])
    ]
    for item in bad:
        with pytest.raises(ValidationError) as checked:
            _BATCH.validate_python([good, item])
        with pytest.raises(ValidationError) as cleared:
            _CLEARED_BATCH.validate_python([good, item])
        assert [(e["loc"], e["msg"]) for e in cleared.value.errors()] == [(e["loc"], e["msg"]) for e in checked.value.errors()]
