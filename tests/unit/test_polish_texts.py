"""The Polish the team and the public read, checked the way a native speaker proofread it: nobody is
addressed or quoted in one grammatical gender, and the phrases fixed in that pass stay fixed."""

import re

import pytest

from domain import messages
from domain.messages import Messenger, gsm_safe
from tests.unit.conftest import KASIA

pytestmark = pytest.mark.shipped  # the shipped templates, kits and messages

# First- and second-person past forms carry a gender in Polish ("kliknąłem", "podałeś"); so do the
# bracketed stand-ins ("potwierdził(a)", "wzywany(-a)"). The texts are written without either.
GENDERED_PAST = re.compile(r"\b\w+(?:łem|łam|łeś|łaś)\b", re.IGNORECASE)
BRACKETED_GENDER = re.compile(r"\w\((?:-?a|-?ęła|-?łaś|-?am)\)")


def polish_kit_texts(catalog) -> list[tuple[str, str]]:
    found = []
    for playbook, kit in catalog.answers.items():
        for answer in kit.answers:
            found.append((f"answers/{playbook}.yaml:{answer.id}.question", answer.question["pl"]))
            found.append((f"answers/{playbook}.yaml:{answer.id}.answer", answer.answer["pl"]))
    return found


def polish_internal_templates(catalog) -> list[tuple[str, str]]:
    names = {audience.template for playbook in catalog.playbooks.values() for audience in playbook.internal}
    return [(f"templates/{name}.pl.j2", catalog.templates[(name, "pl")]) for name in sorted(names)]


def polish_texts(catalog) -> list[tuple[str, str]]:
    messages_pl = [(f"messages:{key}", value) for key, value in messages._TEXTS["pl"].items()]
    return messages_pl + polish_kit_texts(catalog) + polish_internal_templates(catalog)


def test_no_polish_text_speaks_in_one_gender(catalog):
    gendered = [(where, match.group()) for where, value in polish_texts(catalog) for match in GENDERED_PAST.finditer(value)]
    bracketed = [(where, match.group()) for where, value in polish_texts(catalog) for match in BRACKETED_GENDER.finditer(value)]
    assert gendered == [] and bracketed == []


def test_the_gender_check_catches_what_the_proofreading_found():
    assert GENDERED_PAST.findall("Kliknąłem w link / podałem swoje dane, którego dane podałeś")
    assert (
        BRACKETED_GENDER.search("potwierdził(a)")
        and BRACKETED_GENDER.search("wzywany(-a)")
        and BRACKETED_GENDER.search("przejął(-ęła)")
    )


def test_the_answer_approval_sms_does_not_read_as_an_order_to_reply():
    """SMS text loses its accents (GSM-7), and "Odpowiedź" without its "ź" is the imperative "reply"."""
    say = Messenger("inc-1", "Konto przejęte", "SEV1", language="pl")
    sms = gsm_safe(say.answer_approval_request(KASIA, 3, "is_giveaway_real", 2, "legal", "Q?", "A.").sms)
    assert not re.search(r"\bOdpowiedz\b", sms) and "odpowiedzi 'is_giveaway_real'" in sms


@pytest.mark.parametrize(
    ("playbook", "answer_id", "phrase"),
    [
        ("controversial_post", "why_posted", "nigdy nie powinien był się ukazać"),
        ("customer_backlash", "why_change", "Przepraszamy."),
        ("account_compromise", "clicked_link", "Co zrobić po kliknięciu w link"),
    ],
)
def test_fixed_polish_phrases(catalog, playbook, answer_id, phrase):
    answer = next(a for a in catalog.answers[playbook].answers if a.id == answer_id)
    assert phrase in answer.question["pl"] + " " + answer.answer["pl"]


def test_no_kit_promises_a_short_outage_or_offers_a_non_apology(catalog):
    english = [a.answer["en"] for kit in catalog.answers.values() for a in kit.answers]
    assert not any("chwilowo" in text for _, text in polish_kit_texts(catalog))
    assert not any(re.search(r"sorry (it|that it|if it) landed|sorry if anyone", text) for text in english)
    assert not any("seriously" in text for text in english)
