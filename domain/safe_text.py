"""Text that arrives from outside, checked once at the edge, for every model that takes it.

Two kinds of text, each refused with the field named when it carries a control character:

- :data:`OneLine`: anything that can become a subject, a header, a name or a title (incident titles,
  person ids, playbook names, task titles). No control character at all (Unicode category Cc: C0,
  DEL, C1) and no line or paragraph separator: a line break in an email subject splits the header,
  a NUL is refused by PostgreSQL after the caller was told 201.
- :data:`LongText`: what people write at length (summaries, statements, notes, comments). Line
  breaks and tabs are text here (a browser's textarea sends CR LF); every other control character
  is refused.

Both are plain ``str`` annotations, so length limits are added where used:
``title: OneLine = Field(min_length=1, max_length=200)``. An optional field takes its limits in the
type instead, ``comment: long_text(max_length=2000) | None = None``: pydantic does not carry a
``Field`` length through ``X | None`` to a validated string (it would count "items"). They check the value as received, before a
model's ``str_strip_whitespace`` trims it, so the API's description (a ``pattern`` in its JSON
Schema) says exactly what is accepted. :func:`refusal` gives the same check to code that reads
text outside a model.
"""

import json
import re
import unicodedata
from typing import Annotated, Any

from pydantic import BeforeValidator, GetJsonSchemaHandler, StringConstraints
from pydantic_core import CoreSchema

LINE_SEPARATORS = "\u2028\u2029"
LONG_TEXT_BREAKS = "\t\n\r"
# The JSON Schema patterns say the same as the checks below (Cc is \x00-\x1f and \x7f-\x9f).
ONE_LINE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$"
LONG_TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
# An address goes into a header: no spaces, no controls, one @ and a dot in the domain.
EMAIL_PATTERN = r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s\x00-\x1f\x7f-\x9f]+\.[^@\s\x00-\x1f\x7f-\x9f]+$"
# Every character either kind may refuse (Cc and the line separators), found at C speed: most text
# has none, and walking it character by character was most of the cost of validating a batch of mentions.
_SUSPECT = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


# In a JSON document's bytes, what can decode to such a character: an escape of one (\n, \u2028 …)
# or the character itself in UTF-8 (C0 controls cannot appear raw inside a JSON string).
_SUSPECT_IN_JSON = re.compile(
    rb"\\[bfnrt]|\\u(?:00[01][0-9A-Fa-f]|007[Ff]|00[89][0-9A-Fa-f]|202[89])|\x7f|\xc2[\x80-\x9f]|\xe2\x80[\xa8\xa9]"
)


def json_may_hold_refused_text(raw: bytes) -> bool:
    """False only when no string in the JSON document ``raw`` can hold a character that
    :data:`OneLine` or :data:`LongText` refuses (one pass at C speed over the bytes), so a caller
    may skip checking its strings one by one; True when one might (or the document is not UTF-8)."""
    if json.detect_encoding(raw) != "utf-8":
        return True
    return _SUSPECT_IN_JSON.search(raw) is not None


def _describe(character: str) -> str:
    code = f"U+{ord(character):04X}"
    name = {"\x00": "NUL", "\n": "line feed", "\r": "carriage return", "\t": "tab", "\x7f": "DEL"}.get(character)
    return f"{code} ({name})" if name else code


def refusal(value: str, *, multiline: bool) -> str | None:
    """Why ``value`` cannot be taken (naming the first offending character and where), or None."""
    first = _SUSPECT.search(value)
    if first is None:
        return None
    for position, character in enumerate(value[first.start() :], start=first.start()):
        if multiline and character in LONG_TEXT_BREAKS:
            continue
        if character in "\n\r" or character in LINE_SEPARATORS:
            return f"must be a single line: a line break {_describe(character)} at position {position}"
        if unicodedata.category(character) == "Cc":
            return f"must not contain control characters: {_describe(character)} at position {position}"
    return None


def printable(value: str) -> str:
    """Text we cannot refuse (a provider's error message, a bounce reason) made safe to store and
    to show: each control character or line separator becomes a space."""
    return "".join(" " if unicodedata.category(c) == "Cc" or c in LINE_SEPARATORS else c for c in value)


class _Checked:
    """The validator and the JSON Schema pattern of one kind of text."""

    def __init__(self, multiline: bool):
        self.multiline = multiline
        self.pattern = LONG_TEXT_PATTERN if multiline else ONE_LINE_PATTERN

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            problem = refusal(value, multiline=self.multiline)
            if problem:
                raise ValueError(problem)
        return value

    def __get_pydantic_json_schema__(self, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        schema = handler(core_schema)
        if schema.get("type") == "string" and "pattern" not in schema:
            schema["pattern"] = self.pattern
        return schema


_ONE_LINE = _Checked(multiline=False)
_LONG_TEXT = _Checked(multiline=True)
OneLine = Annotated[str, BeforeValidator(_ONE_LINE), _ONE_LINE]
LongText = Annotated[str, BeforeValidator(_LONG_TEXT), _LONG_TEXT]


def one_line(max_length: int, min_length: int | None = None) -> Any:
    """:data:`OneLine` with its length limits, for fields that may also be null."""
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length), BeforeValidator(_ONE_LINE), _ONE_LINE]


def long_text(max_length: int, min_length: int | None = None) -> Any:
    """:data:`LongText` with its length limits, for fields that may also be null."""
    return Annotated[
        str, StringConstraints(min_length=min_length, max_length=max_length), BeforeValidator(_LONG_TEXT), _LONG_TEXT
    ]
