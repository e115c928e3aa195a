import re
import string
from datetime import datetime, timedelta, timezone

import pytest

from domain import messages
from domain.messages import LANGUAGES, SMS_LIMIT, Messenger, Notice, gsm_safe, resent, sms_with_action
from tests.unit.conftest import ANNA, EWA, KASIA, PIOTR

AT = datetime(2026, 1, 1, 14, 5, tzinfo=timezone.utc)


def all_notices(language: str = "en", drill: bool = False) -> list[Notice]:
    say = Messenger("inc-1", "Account hijacked", "SEV1", "Scam posts from our account.", language, drill)
    return [
        say.page(EWA, "incident_commander", 0, timedelta(minutes=5)),
        say.taken(ANNA, EWA, "comms_lead", ["sms"]),
        say.reminder(EWA, "the assessment", AT),
        say.task_assigned(PIOTR, "Recover access", AT),
        say.approval_request(KASIA, 2, "legal", "Statement text."),
        say.changes_requested(ANNA, 2, KASIA, "Shorter, please."),
        say.review_request(EWA, AT),
        say.answer_approval_request(KASIA, 3, "is_giveaway_real", 2, "legal", "Is the giveaway real?", "No."),
        say.answer_changes_requested(ANNA, "is_giveaway_real", 2, KASIA, "Name the platform."),
    ]


def test_every_notice_is_for_a_person_id_of_the_incident():
    for notice in all_notices():
        assert notice.incident_id == "inc-1"
        assert notice.person in {EWA, PIOTR, KASIA, ANNA}
        assert "@" not in notice.model_dump_json() and "+48" not in notice.model_dump_json()


def test_notice_kinds():
    assert [n.kind for n in all_notices()] == [
        "page",
        "taken",
        "reminder",
        "task",
        "approval",
        "revision",
        "review",
        "answer_approval",
        "answer_revision",
    ]


def test_both_languages_have_every_text_with_the_same_placeholders():
    english, polish = messages._TEXTS["en"], messages._TEXTS["pl"]
    assert set(english) == set(polish)
    for key in english:
        fields = {name for _, name, _, _ in string.Formatter().parse(english[key]) if name}
        assert fields == {name for _, name, _, _ in string.Formatter().parse(polish[key]) if name}, key


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_notice_renders_in_each_language(language):
    for notice in all_notices(language):
        assert notice.language == language and notice.subject and notice.body and notice.sms
        assert "{" not in notice.body + notice.subject + notice.sms


def test_polish_notices_are_in_polish():
    page = all_notices("pl")[0]
    assert page.subject == "Kryzys SEV1: Account hijacked"
    assert "Potwierdź w ciągu 5 min" in page.body


def test_unknown_language_falls_back_to_english():
    assert Messenger("inc-1", "T", "SEV2", language="de").reminder(EWA, "x", AT).subject == "Overdue: x"


def test_drill_notices_are_marked_everywhere():
    for notice in all_notices(drill=True):
        assert notice.drill and notice.subject.startswith("[DRILL] ") and notice.sms.startswith("[DRILL] ")


def test_escalated_page_names_its_level():
    say = Messenger("inc-1", "T", "SEV2")
    assert "(escalation level 2)" in say.page(EWA, "legal", 1, timedelta(minutes=5)).body
    assert "escalation" not in say.page(EWA, "legal", 0, timedelta(minutes=5)).body


def test_page_channels_follow_the_level():
    assert Messenger("inc-1", "T", "SEV2").page(EWA, "legal", 0, timedelta(minutes=5), ["email"]).channels == ["email"]


def test_gsm_safe_transliterates_polish():
    assert gsm_safe("Zażółć gęślą jaźń ŁÓDŹ") == "Zazolc gesla jazn LODZ"


def test_sms_with_action_keeps_the_action_whole_and_fits_one_segment():
    action = "Reply ACK 0421 or https://crisis.example.com/a/" + "x" * 43
    sms = sms_with_action("SEV1 " + "A very long incident title " * 10 + "- paged as incident_commander.", action)
    assert len(sms) <= SMS_LIMIT and sms.endswith(action) and "~" in sms


def test_short_sms_is_left_alone():
    assert sms_with_action("SEV2 Outage - paged as legal.", "Reply ACK 1234") == "SEV2 Outage - paged as legal. Reply ACK 1234"


def test_resent_notice_goes_on_the_other_channel_and_says_why():
    page = all_notices()[0]
    again = resent(page, "email")
    assert again.channels == ["email"] and again.kind == "page"
    assert re.search(r"Sent again by email", again.body)


def test_changes_requested_does_not_double_the_full_stop():
    notice = Messenger("inc-1", "T", "SEV2").changes_requested(ANNA, 2, KASIA, "Shorter, please.")
    assert "please.." not in notice.body


def test_a_page_email_carries_the_summary_and_the_deadline():
    page = all_notices()[0]
    assert "Scam posts from our account." in page.body and "Acknowledge within 5 min" in page.body


def test_answer_notices_go_by_email_and_name_the_proposal_they_are_about():
    say = Messenger("inc-1", "Account hijacked", "SEV1")
    approval = say.answer_approval_request(KASIA, 3, "is_giveaway_real", 2, "legal", "Is the giveaway real?", "No, it is a scam.")
    assert approval.channels == ["email"] and approval.version == 3
    assert "answer 'is_giveaway_real' v2" in approval.subject and "It is not published" in approval.body
    assert "Q: Is the giveaway real?\nA: No, it is a scam." in approval.body
    revision = say.answer_changes_requested(ANNA, "is_giveaway_real", 2, KASIA, "Name the platform.")
    assert revision.channels == ["email"] and revision.body.endswith("v2: Name the platform. Propose a new version.")


@pytest.mark.parametrize("language", LANGUAGES)
def test_approval_subjects_name_the_incident_and_its_severity(language):
    say = Messenger("inc-1", "Account hijacked", "SEV1", language=language)
    approval = say.approval_request(KASIA, 2, "legal", "Statement text.")
    assert approval.subject.startswith("[SEV1] ") and approval.subject.endswith(": Account hijacked")
    assert "Account hijacked" in approval.sms
    assert say.changes_requested(ANNA, 2, KASIA, None).subject.endswith(": Account hijacked")
    assert say.answer_approval_request(KASIA, 3, "x", 2, "legal", "Q?", "A.").subject.endswith(": Account hijacked")


@pytest.mark.parametrize(
    ("language", "tag", "note"),
    [("en", "[INTERNAL] ", "Do not forward it"), ("pl", "[WEWNĘTRZNE] ", "Nie przekazujcie jej dalej")],
)
def test_stakeholder_briefings_carry_internal_text_marked_as_internal(language: str, tag: str, note: str):
    say = Messenger("inc-1", "Mention surge: Northwind app", "SEV2", "49 mentions; reach 547,850.", language)
    briefing = messages.briefing(say, ["executives"], "declared")
    assert briefing.subject.startswith(tag) and "Mention surge" in briefing.subject
    assert "49 mentions" in briefing.body and note in briefing.body
    drill = messages.briefing(Messenger("inc-1", "T", "SEV2", "S", language, True), ["executives"], "declared")
    assert drill.subject.startswith(f"[DRILL] {tag}")
