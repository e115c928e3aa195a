from datetime import datetime, timedelta, timezone

import pytest

from domain import messages
from domain.messages import Notice
from tests.unit.conftest import ANNA, EWA, KASIA, PIOTR

AT = datetime(2026, 1, 1, 14, 5, tzinfo=timezone.utc)


def all_notices(drill: bool) -> list[Notice]:
    return [
        messages.page("inc-1", EWA, "incident_commander", "Account hijacked", "SEV1", 0, timedelta(minutes=5), drill),
        messages.reminder("inc-1", EWA, "the assessment", AT, drill),
        messages.task_assigned("inc-1", PIOTR, "Recover access", AT, drill),
        messages.approval_request("inc-1", KASIA, 2, "legal", "Statement text.", drill),
        messages.changes_requested("inc-1", ANNA, 2, KASIA, "Shorter, please.", drill),
        messages.published("inc-1", ANNA, 2, "Statement text.", drill),
        messages.review_request("inc-1", EWA, AT, drill),
    ]


def test_every_notice_is_for_a_person_id_of_the_incident():
    for notice in all_notices(drill=False):
        assert notice.incident_id == "inc-1"
        assert notice.person in {EWA, PIOTR, KASIA, ANNA}
        assert "@" not in notice.model_dump_json()
        assert "+48" not in notice.model_dump_json()


def test_notices_have_no_contact_fields():
    assert set(Notice.model_fields) == {"incident_id", "person", "kind", "subject", "body", "drill"}


def test_notice_kinds():
    assert [n.kind for n in all_notices(drill=False)] == ["page", "reminder", "task", "approval", "revision", "published", "review"]


@pytest.mark.parametrize("index", range(7))
def test_drill_notices_say_so_in_the_subject(index):
    notice = all_notices(drill=True)[index]
    assert notice.drill is True
    assert notice.subject.startswith("[DRILL] ")
    assert notice.subject.count("[DRILL]") == 1


@pytest.mark.parametrize("index", range(7))
def test_real_notices_have_no_drill_prefix(index):
    notice = all_notices(drill=False)[index]
    assert notice.drill is False
    assert "[DRILL]" not in notice.subject


def test_a_page_asks_for_an_acknowledgement_within_the_wait():
    notice = messages.page("inc-1", EWA, "incident_commander", "Account hijacked", "SEV1", 0, timedelta(minutes=90), False)
    assert notice.subject == "SEV1 crisis: Account hijacked"
    assert notice.body == (
        "You are paged as incident_commander for incident inc-1: Account hijacked. "
        "Acknowledge within 1 h 30 min or the next person is paged."
    )


def test_an_escalated_page_names_its_level():
    notice = messages.page("inc-1", "james.whitfield", "incident_commander", "Account hijacked", "SEV1", 1, timedelta(minutes=5), False)
    assert "as incident_commander (escalation level 2) for incident" in notice.body


def test_a_reminder_names_what_is_overdue_and_when_it_was_due():
    notice = messages.reminder("inc-1", EWA, "the assessment", AT, False)
    assert notice.subject == "Overdue: the assessment"
    assert notice.body == "Incident inc-1: 'the assessment' was due at 14:05 UTC and is still open."


def test_a_task_handed_over_says_from_whom():
    notice = messages.task_assigned("inc-1", "olivia.hart", "Recover access", AT, False, escalated_from=PIOTR)
    assert notice.body == (
        "Incident inc-1: you own 'Recover access', due at 14:05 UTC. "
        "It passed to you because piotr.zielinski did not complete it in time."
    )


def test_an_approval_request_carries_the_statement_text():
    notice = messages.approval_request("inc-1", KASIA, 2, "legal", "We are on it.", False)
    assert notice.subject == "Approve statement v2"
    assert notice.body.endswith("needs your approval as legal.\n\nWe are on it.")


def test_changes_requested_quotes_the_comment_when_there_is_one():
    with_comment = messages.changes_requested("inc-1", ANNA, 2, KASIA, "shorter, please", False)
    without = messages.changes_requested("inc-1", ANNA, 2, KASIA, None, False)
    assert with_comment.body == (
        "Incident inc-1: katarzyna.wisniewska requested changes to statement v2: shorter, please. Submit a new version."
    )
    assert without.body == "Incident inc-1: katarzyna.wisniewska requested changes to statement v2. Submit a new version."


def test_a_review_request_gives_the_due_date():
    notice = messages.review_request("inc-1", EWA, AT, False)
    assert notice.body == "Incident inc-1 is resolved. Submit the post-incident review by 2026-01-01 14:05 UTC."
