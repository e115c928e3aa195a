"""Text written into exports (the Markdown report, CSV files) is escaped there, so what people typed
reads as the words they typed wherever the export is opened.

A Markdown report is pasted into wikis, tickets and chat, which render it: a title of
``<script>…</script>`` must not become a script, a finding of ``[docs](javascript:…)`` must not
become a link, and a ``|`` in an action item must not split its table row. A CSV cell starting
with ``=`` is a formula to a spreadsheet.
"""

import re

_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]|~])")  # what means something anywhere in a line (a link needs its [ ])
_LINE_MARK = re.compile(r"^(\s*)([-=+#])", re.MULTILINE)  # what means something at the start of a line
_LIST_NUMBER = re.compile(r"^(\s*\d+)(\.)", re.MULTILINE)
_SCHEME = re.compile(r"\b(javascript|vbscript|data|file):", re.IGNORECASE)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def markdown_text(text: str) -> str:
    """``text`` as literal Markdown: HTML entities for ``& < >``, a backslash before every character
    Markdown or a table gives meaning to, and no line that starts a list or a heading underline.
    Line breaks are kept (the caller decides where text may span lines)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)
    text = _SCHEME.sub(r"\1&#58;", text)  # no renderer's autolinker takes "javascript&#58;"
    text = _LINE_MARK.sub(r"\1\\\2", text)
    return _LIST_NUMBER.sub(r"\1\\\2", text)


def markdown_cell(text: str) -> str:
    """``text`` for one cell of a Markdown table: escaped, on one line."""
    return " ".join(markdown_text(text).split())


def csv_cell(value: object) -> object:
    """A value for a CSV cell: text a spreadsheet would run as a formula starts with ``'``."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
