"""Exports escape what people wrote (issue 16 #11): the Markdown report passed ``<script>``,
``javascript:`` links and ``|`` in table cells straight through to whatever renders it, and a CSV
cell starting with ``=`` is a formula to a spreadsheet."""

import csv
import io
import re

from api.reports import _csv
from api.review import Report
from domain.actions import ActionItem, ReviewSubmission
from domain.export_text import csv_cell, markdown_cell, markdown_text
from tests.unit.conftest import Driver

HOSTILE = '<script>alert("pwned")</script> [click](javascript:alert(1)) <img src=x onerror=alert(2)> a|b'


def _links_and_tags(markdown: str) -> list[str]:
    """What a renderer would turn into markup: raw tags and inline links."""
    return re.findall(r"<[a-zA-Z/][^>]*>", markdown) + re.findall(r"(?<!\\)\[[^\]]*(?<!\\)\]\([^)]*\)", markdown)


def test_markdown_text_keeps_the_words_and_drops_the_markup():
    escaped = markdown_text(HOSTILE)
    assert _links_and_tags(escaped) == []
    assert "javascript:" not in escaped and "&lt;script&gt;" in escaped and r"a\|b" in escaped
    assert markdown_text("Checkout down since 09:40 (EU only), ticket #42.") == "Checkout down since 09:40 (EU only), ticket #42."
    assert markdown_text("- not a list\n1. nor this\n# nor a heading") == "\\- not a list\n1\\. nor this\n\\# nor a heading"


def test_a_markdown_cell_stays_one_cell_on_one_line():
    cell = markdown_cell("left | right\nnext line")
    assert "\n" not in cell and re.findall(r"(?<!\\)\|", cell) == []


def test_the_report_escapes_every_text_people_wrote(drive: Driver):
    drive.to_closed()
    review = ReviewSubmission(
        person="ewa",
        summary=f"Summary {HOSTILE}\n# not a heading",
        went_well=[HOSTILE],
        went_badly=["x | y"],
        action_items=[ActionItem(title=f"Fix {HOSTILE}", owner="ewa|ops", playbook_section="respond | tasks")],
    )
    state = drive.state.model_copy(update={"title": f"Title {HOSTILE}", "review": review})
    state.statements[0].text = f"We are on it.\n{HOSTILE}"
    markdown = Report(state, drive.incident.commander_role, drive.now).markdown()
    assert _links_and_tags(markdown) == [], _links_and_tags(markdown)
    assert "javascript:" not in markdown
    assert markdown.startswith("# Post-incident report: Title &lt;script&gt;")
    assert "\n# not a heading" not in markdown
    items = markdown.split("## Action items")[1].strip().splitlines()
    assert len(re.findall(r"(?<!\\)\|", items[2])) == 5, items[2]  # four cells: the | people typed do not add more


def test_a_csv_cell_never_starts_a_formula():
    assert [csv_cell(value) for value in ('=HYPERLINK("http://x")', "+1", "-1", "@SUM(A1)", "plain", 3, None)] == [
        '\'=HYPERLINK("http://x")',
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "plain",
        3,
        None,
    ]
    rows = list(csv.reader(io.StringIO(_csv(["a", "b"], [["=1+1", 2.5]]))))
    assert rows == [["a", "b"], ["'=1+1", "2.5"]]


def test_the_report_names_where_each_statement_went_and_what_it_drew(drive: Driver):
    from domain.incident import Receipt

    drive.to_closed()
    state = drive.state.model_copy(deep=True)
    first = state.statements[0]
    first.receipts = [
        Receipt(channel="x", sha256="0" * 64, provider_id="1860", url="https://x.com/i/web/status/1860"),
        Receipt(channel="mastodon", sha256="0" * 64, provider_id="113", url="https://social.example/@north_wind/113"),
        Receipt(channel="bluesky", sha256="0" * 64, error=f"bluesky answered 401 {HOSTILE}"),
        Receipt(channel="statuspage", sha256="0" * 64, provider_id="p1", url="https://status.example/<script>"),
    ]
    surge = {"signal": "sig-replies-inc-v1", "summary": f"4 of 5 replies are negative {HOSTILE}"}
    replies = {first.version: {"replies": 5, "negative_share": 0.8, "surge": surge}}
    markdown = Report(state, drive.incident.commander_role, drive.now, replies=replies).markdown()
    statement = markdown.split(f"### v{first.version} ")[1].split("###")[0]
    assert "- x: <https://x.com/i/web/status/1860>" in statement
    assert "- mastodon: <https://social.example/@north_wind/113>" in statement  # an autolink keeps the URL as it is
    assert "- bluesky: not published: bluesky answered 401" in statement
    assert "- statuspage: https://status.example/&lt;script&gt;" in statement  # not a URL to link as it is: escaped text
    assert "Replies and quotes: 5, 80% negative. **Surge of negative replies** (signal `sig-replies-inc-v1`)" in statement
    assert "javascript:" not in markdown and [t for t in _links_and_tags(statement) if not t.startswith("<https://")] == []
