"""Every shipped template, in every language, at every severity, with realistic fact sheets: each
channel's variant within its limit, in every kind of statement, as a drill and for real."""

import pytest

from domain.factsheet import FIELDS, FactSheet
from domain.promise import word_promise
from domain.severity import Severity
from domain.statements import INTERNAL_NAMES, StatementContext, StatementKind, names_problems, render_variants
from domain.variants import CHANNELS, problems
from tests.unit.conftest import SHIPPED, T0

STATUS = "https://status.northwind.example.com"

SHEETS = {
    ("technical_outage", "en"): FactSheet(
        headline="Ordering in our app is down",
        what_happened="Since 10:40 orders in the Northwind app fail at payment. Card payments in our cafés work normally.",
        who_is_affected="Everyone ordering in the app in the UK and Poland.",
        what_we_are_doing="Our engineers have found the cause and are rolling back this morning's update.",
        what_to_do="Please don't retry a failed order: you won't be charged twice. You can order at the counter.",
        remedy="Any order you paid for but didn't receive will be refunded automatically within 5 working days.",
        status_page=STATUS,
        faq="https://northwind.example.com/help/app-outage",
    ),
    ("technical_outage", "pl"): FactSheet(
        headline="Zamówienia w naszej aplikacji nie działają",
        what_happened=(
            "Od 10:40 zamówienia w aplikacji Northwind nie przechodzą przy płatności. Płatności kartą w kawiarniach działają."
        ),
        who_is_affected="Wszystkie osoby zamawiające w aplikacji w Polsce i Wielkiej Brytanii.",
        what_we_are_doing="Nasi inżynierowie znaleźli przyczynę i wycofują dzisiejszą aktualizację.",
        what_to_do="Nie ponawiajcie nieudanego zamówienia – pieniądze nie zostaną pobrane dwa razy. Możecie zamówić przy ladzie.",
        remedy="Za opłacone, a niezrealizowane zamówienia zwrócimy pieniądze automatycznie w ciągu 5 dni roboczych.",
        status_page=STATUS,
        faq="https://northwind.example.com/pomoc/awaria-aplikacji",
    ),
    ("account_compromise", "en"): FactSheet(
        headline="Our Instagram account was taken over this morning",
        what_happened=(
            "Since 9:12 our Instagram account has posted a fake giveaway and sent direct messages asking for card details."
        ),
        who_is_affected="Followers who received a direct message from @northwindcoffee today.",
        what_we_are_doing=(
            "We're working with Instagram to recover the account and have removed the fake giveaway from our other channels."
        ),
        what_to_do="If you entered card details, call your bank now and ask them to block the card.",
        status_page=STATUS,
    ),
    ("account_compromise", "pl"): FactSheet(
        headline="Nasze konto na Instagramie zostało dziś rano przejęte",
        what_happened=(
            "Od 9:12 z naszego konta na Instagramie publikowany jest fałszywy konkurs, a w wiadomościach pojawiają się prośby o"
            " dane kart."
        ),
        who_is_affected="Osoby, które dostały dziś wiadomość prywatną od @northwindcoffee.",
        what_we_are_doing="Razem z Instagramem odzyskujemy konto; fałszywy konkurs usunęliśmy z naszych pozostałych kanałów.",
        what_to_do="Osoby, które podały dane karty, prosimy o pilny kontakt z bankiem i zastrzeżenie karty.",
        status_page=STATUS,
    ),
    ("controversial_post", "en"): FactSheet(
        headline="Our post about the Women's Day offer",
        what_happened="On Monday we published a post about our Women's Day offer that reduced women to a stereotype.",
        what_we_are_doing="We're reviewing how the post was approved and will share what we change by Friday.",
        faq="https://northwind.example.com/statement",
    ),
    ("controversial_post", "pl"): FactSheet(
        headline="Nasz wpis o promocji na Dzień Kobiet",
        what_happened="W poniedziałek opublikowaliśmy wpis o promocji na Dzień Kobiet, który powielał krzywdzący stereotyp.",
        what_we_are_doing="Sprawdzamy, jak wpis został zatwierdzony, i do piątku powiemy, co zmieniamy.",
        faq="https://northwind.example.com/oswiadczenie",
    ),
    ("customer_backlash", "en"): FactSheet(
        headline="The changes to our loyalty programme",
        what_happened="On 1 December we cut the points you earn per coffee by half, with two days' notice.",
        who_is_affected="Every Northwind Rewards member.",
        what_we_are_doing="We're reversing the change from Monday and keeping the old rate until the end of next year.",
        remedy="Every member gets double points on all purchases until 31 January.",
        faq="https://northwind.example.com/rewards-changes",
    ),
    ("customer_backlash", "pl"): FactSheet(
        headline="Zmiany w naszym programie lojalnościowym",
        what_happened="1 grudnia z dwudniowym wyprzedzeniem o połowę zmniejszyliśmy liczbę punktów za każdą kawę.",
        who_is_affected="Wszystkie osoby w programie Northwind Rewards.",
        what_we_are_doing="Od poniedziałku wycofujemy tę zmianę i zostawiamy dotychczasowe zasady do końca przyszłego roku.",
        remedy="Do 31 stycznia wszystkie osoby w programie dostają podwójne punkty za każdy zakup.",
        faq="https://northwind.example.com/zmiany-rewards",
    ),
    ("misinformation", "en"): FactSheet(
        headline="Our coffee is safe to drink",
        what_happened=(
            "A video shared since Sunday says our cold brew contains mould. Independent lab tests of every batch this month found"
            " none."
        ),
        what_we_are_doing="We've published the lab reports and asked the platforms to label the video.",
        faq="https://northwind.example.com/facts/cold-brew",
    ),
    ("data_breach", "en"): FactSheet(
        headline="Some customers' names and email addresses were exposed",
        what_happened=(
            "On 3 December a misconfigured server made names and email addresses of some loyalty members readable from outside"
            " for six hours."
        ),
        who_is_affected="About 4,000 Northwind Rewards members in Poland. Card details and passwords are not affected.",
        what_we_are_doing=(
            "We closed the access the same day, told the data protection authority and are writing to every person affected."
        ),
        what_to_do="Be wary of emails that use your name and ask you to log in or pay.",
        faq="https://northwind.example.com/data-incident",
    ),
    ("data_breach", "pl"): FactSheet(
        headline="Ujawnione zostały imiona i adresy e-mail części klientów",
        what_happened=(
            "3 grudnia przez błąd w konfiguracji serwera imiona i adresy e-mail części członków programu były przez sześć godzin"
            " dostępne z zewnątrz."
        ),
        who_is_affected="Około 4000 osób w programie Northwind Rewards w Polsce. Dane kart i hasła nie zostały ujawnione.",
        what_we_are_doing=(
            "Tego samego dnia zamknęliśmy dostęp, zawiadomiliśmy Prezesa UODO i piszemy do każdej osoby, której to dotyczy."
        ),
        what_to_do="Uważajcie na e-maile, które zwracają się do Was po imieniu i proszą o zalogowanie lub płatność.",
        faq="https://northwind.example.com/incydent-danych",
    ),
    ("misinformation", "pl"): FactSheet(
        headline="Nasza kawa jest bezpieczna",
        what_happened=(
            "Od niedzieli krąży nagranie, według którego w naszym cold brew jest pleśń. Niezależne badania każdej partii z tego"
            " miesiąca jej nie wykazały."
        ),
        what_we_are_doing="Opublikowaliśmy wyniki badań i poprosiliśmy serwisy o oznaczenie nagrania.",
        faq="https://northwind.example.com/fakty/cold-brew",
    ),
}
TEMPLATES = sorted(SHEETS)  # every playbook's statement template in every language (the first test proves it)
# The longest promise the workflow words: a date when the next update is not today.
DATED_PROMISE = {"en": "15:30 CEST on 30 September", "pl": "30 października, godz. 15:30 CEST"}
ZONE = "Europe/Warsaw"


def shipped_template(playbook: str, language: str) -> str:
    return (SHIPPED / "templates" / f"{playbook}.{language}.j2").read_text(encoding="utf-8")


def cases(catalog, playbook: str, language: str):
    """Every kind at every severity (its cadence sets the promise), then with the longest promise (a
    date), each with the incident's own realistic sheet and an empty one, as a drill: "[DRILL] " makes
    every form longer, so a real statement is never longer than one checked here."""
    sheet = SHEETS[(playbook, language)]
    cadence = catalog.playbooks[playbook].communicate.update_every
    promises = [(severity, word_promise(T0 + cadence.at(severity), T0, ZONE, language)) for severity in Severity]
    for severity, promised in promises + [("dated", DATED_PROMISE[language])]:
        for kind in StatementKind:
            for facts in (sheet, FactSheet()):
                changed = () if kind is StatementKind.HOLDING else tuple(name for name in FIELDS if getattr(facts, name))
                yield (
                    severity,
                    StatementContext(
                        kind=kind,
                        organization=catalog.roster.organization.name,
                        fact_sheet=facts,
                        next_update=None if kind is StatementKind.RESOLUTION else promised,
                        changed=changed,
                        drill=True,
                    ),
                )


def test_every_shipped_statement_template_has_a_realistic_sheet(catalog):
    assert {(p.communicate.template, language) for p in catalog.playbooks.values() for language in p.languages} == set(TEMPLATES)


@pytest.mark.parametrize(("playbook", "language"), TEMPLATES)
def test_every_variant_of_every_statement_fits_its_channel(catalog, playbook: str, language: str):
    source = shipped_template(playbook, language)
    checked = 0
    for severity, context in cases(catalog, playbook, language):
        variants = render_variants(source, context)
        assert [v.channel for v in variants] == list(CHANNELS)
        where = f"{severity} {context.kind.value} drill={context.drill} sheet={context.fact_sheet.headline!r}"
        assert problems(variants) == [], where
        checked += len(variants)
    assert checked == (len(Severity) + 1) * len(StatementKind) * 2 * len(CHANNELS)


@pytest.mark.parametrize(("playbook", "language"), TEMPLATES)
def test_no_shipped_template_names_an_internal_field(playbook: str, language: str):
    source = shipped_template(playbook, language)
    assert names_problems(source) == []
    assert not any(f"{{{{ {name}" in source for name in INTERNAL_NAMES)


@pytest.mark.parametrize(("playbook", "language"), TEMPLATES)
def test_every_field_of_the_fact_sheet_reaches_the_long_form(catalog, playbook: str, language: str):
    source = shipped_template(playbook, language)
    sheet = SHEETS[(playbook, language)]
    context = StatementContext(
        kind=StatementKind.HOLDING, organization="Northwind Coffee", fact_sheet=sheet, next_update="14:30 CET"
    )
    long_form = next(v.text for v in render_variants(source, context) if v.channel == "linkedin")
    for name in FIELDS:
        value = getattr(sheet, name)
        if value:
            assert value.rstrip(".") in long_form, name


POLISH_AVOIDED = [
    "chwilowo",
    "Kliknąłeś",
    "kliknąłem",
    "podałeś",
    "podałem",
    "traktujemy poważnie",
    "nie ma z nimi nic wspólnego",
]
ENGLISH_AVOIDED = ["take them seriously", "take this seriously", "if anyone was offended", "sorry it landed", "before sharing it"]


@pytest.mark.parametrize(("playbook", "language"), TEMPLATES)
def test_the_public_wording_avoids_what_a_crisis_communicator_would_strike(catalog, playbook: str, language: str):
    source = shipped_template(playbook, language)
    texts = " ".join(
        v.text + (v.title or "") for _, context in cases(catalog, playbook, language) for v in render_variants(source, context)
    )
    for phrase in POLISH_AVOIDED if language == "pl" else ENGLISH_AVOIDED:
        assert phrase.lower() not in texts.lower(), phrase


@pytest.mark.parametrize("language", ["en", "pl"])
def test_the_controversial_post_holding_statement_apologises_and_says_the_post_was_removed(catalog, language: str):
    source = shipped_template("controversial_post", language)
    removed, sorry = {"en": ("taken the post down", "sorry"), "pl": ("Usunęliśmy ten wpis", "przepraszamy")}[language]
    for facts in (SHEETS[("controversial_post", language)], FactSheet()):
        context = StatementContext(
            kind=StatementKind.HOLDING, organization="Northwind Coffee", fact_sheet=facts, next_update=None
        )
        for variant in render_variants(source, context):
            assert removed in variant.text and sorry in variant.text, variant.channel
