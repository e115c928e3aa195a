"""The crisis room's small rules (#18): the word diff the approval and incident pages highlight, and
the dashboard's triage order."""

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from api.pages import triage, wants_html
from api.worddiff import word_diff


def test_a_word_diff_marks_the_words_added_and_removed_and_keeps_the_text_whole():
    before = "We are looking into the outage. More at 14:00."
    after = "We are fixing the outage. More at 15:00.\nSource: the register."
    runs = word_diff(before, after)
    assert "".join(text for kind, text in runs if kind != "removed") == after
    assert "".join(text for kind, text in runs if kind != "added") == before
    assert ("removed", "looking into ") in runs and ("added", "fixing ") in runs
    assert runs[-1] == ("added", "15:00.\nSource: the register.")


def test_a_word_diff_against_nothing_is_empty():
    assert word_diff("", "The first version.") == []
    assert word_diff("Same.", "Same.") == [("same", "Same.")]


def _incident(id, severity, due_in_minutes=None, drill=False, status="open"):
    now = datetime.now(timezone.utc)
    pending = (
        []
        if due_in_minutes is None
        else [{"title": "x", "people": [], "due_at": (now + timedelta(minutes=due_in_minutes)).isoformat()}]
    )
    return SimpleNamespace(id=id, severity=severity, pending=pending, drill=drill, status=status)


def test_the_dashboard_puts_open_incidents_by_severity_then_overdue_then_soonest_deadline():
    now = datetime.now(timezone.utc)
    rows = triage(
        [
            _incident("closed-sev1", "SEV1", status="closed"),
            _incident("sev3-overdue", "SEV3", -5),
            _incident("sev1-later", "SEV1", 30),
            _incident("sev1-overdue", "SEV1", -1),
            _incident("sev1-soon", "SEV1", 5),
            _incident("sev2-nothing", "SEV2"),
        ],
        now,
    )
    assert [row["incident"].id for row in rows] == [
        "sev1-overdue",
        "sev1-soon",
        "sev1-later",
        "sev2-nothing",
        "sev3-overdue",
        "closed-sev1",
    ]
    assert [row["overdue"] for row in rows][:2] == [True, False]


def test_json_stays_the_answer_unless_a_browser_asks_for_html():
    def asking(accept):
        return SimpleNamespace(headers={"accept": accept} if accept is not None else {})

    assert wants_html(asking("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"))
    assert not wants_html(asking("application/json"))
    assert not wants_html(asking("*/*")) and not wants_html(asking(None))
    assert not wants_html(asking("application/json, text/html"))
