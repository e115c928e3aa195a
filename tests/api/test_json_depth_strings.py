"""The depth check's cut of JSON strings (api.limits._outside_strings, C-speed byte operations)
against the regular expression it replaced: the same brackets outside strings for every JSON
document, and for any body without a backslash; brackets, quotes and backslashes in strings,
escaped or not, never count."""

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.limits import TooDeep, _outside_strings, check_json_depth

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # what the check used before
_NOT_A_BRACKET = bytes(byte for byte in range(256) if byte not in b"[]{}")


def by_regex(raw: bytes) -> bytes:
    return _STRING.sub(b"", raw).translate(None, _NOT_A_BRACKET)


tricky_text = st.text(alphabet='[]{}"\\/ab ,:ś\n\t\x00😀', max_size=12)  # escaped or not, as json.dumps writes it
documents = st.recursive(
    st.none() | st.booleans() | st.integers() | tricky_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(tricky_text, inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(documents, st.booleans())
def test_every_json_document_keeps_the_same_brackets(document, ascii_only):
    raw = json.dumps(document, ensure_ascii=ascii_only).encode()
    assert _outside_strings(raw) == by_regex(raw)


@settings(max_examples=400, deadline=None)
@given(st.binary().map(lambda raw: raw.replace(b"\\", b"")) | st.text(alphabet='[]{}" a,:1').map(str.encode))
def test_any_body_without_a_backslash_keeps_the_same_brackets(raw):
    assert _outside_strings(raw) == by_regex(raw)


@pytest.mark.parametrize(
    ("raw", "outside"),
    [
        (b'["[[", "]]", {"}": "{"}]', b"[{}]"),
        (rb'["\"[", "\\", [[]]]', b"[[[]]]"),  # an escaped quote, then an escaped backslash before the string's end
        (rb'["\\\\\"[\\\\"]', b"[]"),
        (b'[""""[]', b"[[]"),
        (b'["a" "[" ]', b"[]"),
        (b'["abc [[[', b"[[[["),  # a string without its end (not JSON): what follows its quote counts
        (b'[1] "[[[', b"[][[["),
    ],
)
def test_strings_are_cut_as_a_parser_reads_them(raw, outside):
    assert _outside_strings(raw) == by_regex(raw) == outside


def test_a_deep_nest_hidden_between_strings_is_still_refused():
    deep = b'["' + b'", "'.join([b"x"] * 40) + b'", ' + b"[" * 40 + b"]" * 40 + b"]"
    with pytest.raises(TooDeep):
        check_json_depth(deep)
    check_json_depth(json.dumps(["[" * 40, "{" * 40]).encode())
