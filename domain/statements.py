"""Statement templates: Jinja2 in a sandbox, so a playbook file can never run code.

A template sees only the public fact sheet, the organisation and the times (see
``TEMPLATE_NAMES``): the incident's title, summary, assessment and detection evidence are internal
and no template can name them. It renders three forms of each kind of statement: a one-line
``title`` (status page incident name, email subject), a ``short`` form for the short channels (X,
Bluesky, Mastodon, Threads, SMS) and a ``long`` one (status page, email, LinkedIn, Instagram).
"""

import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment

from domain.factsheet import FIELDS as FACT_SHEET_FIELDS
from domain.factsheet import FactSheet
from domain.variants import CHANNELS, Channel, Form, Variant, build_variants
from domain.variants import problems as variant_problems

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True)


def _sentence(value: str) -> str:
    """A fact sheet field ends a sentence whether or not its author typed the full stop."""
    value = str(value).strip()
    return value if not value or value[-1] in ".!?…" else f"{value}."


_ENV.filters["sentence"] = _sentence
_PARAGRAPHS = re.compile(r"\n{3,}")  # paragraphs of optional fields: at most one blank line between two


class StatementKind(StrEnum):
    HOLDING = "holding"
    UPDATE = "update"
    RESOLUTION = "resolution"


# What a template may name: the fact sheet's fields, and these.
CONTEXT_NAMES = ("kind", "form", "organization", "next_update", "changed")
TEMPLATE_NAMES = frozenset(CONTEXT_NAMES + FACT_SHEET_FIELDS)
# The internal voice: what templates rendered before the fact sheet, and what the team keeps to itself.
INTERNAL_NAMES = frozenset(
    {
        "title",
        "summary",
        "severity",
        "facts",
        "rumours",
        "audiences",
        "answers",
        "impact",
        "reach",
        "evidence",
        "detection",
        "resolution",
        "signal",
    }
)


@dataclass(frozen=True)
class StatementContext:
    """Everything a template may use. ``next_update`` is the promised time of the next update as
    the public reads it, to follow "by" / "do" ("15:30 CET", "7 grudnia, godz. 9:00"; see
    domain.promise), None when no update is promised; ``changed`` names the fact sheet's
    fields that changed since the last published statement (an update says what is new)."""

    kind: StatementKind
    organization: str
    fact_sheet: FactSheet = field(default_factory=FactSheet)
    next_update: str | None = None
    changed: tuple[str, ...] = ()
    drill: bool = False
    internal: dict[str, str] | None = None


# An internal audience's message (staff, partners) may also name these: it is marked internal and
# never published.
INTERNAL_MESSAGE_NAMES = frozenset({"title", "summary", "severity"})


def internal_context(
    kind: StatementKind,
    organization: str,
    fact_sheet: FactSheet,
    title: str,
    summary: str,
    severity: str,
    next_update: str | None = None,
    drill: bool = False,
) -> StatementContext:
    """The context of an internal audience's message: the public one plus the internal title,
    summary and severity."""
    return StatementContext(
        kind=kind,
        organization=organization,
        fact_sheet=fact_sheet,
        next_update=next_update,
        drill=drill,
        internal={"title": title, "summary": summary, "severity": severity},
    )


class TemplateProblem(ValueError):
    pass


# Parsing and compiling a template costs far more than rendering it, and the same few sources are
# rendered over and over (every kind, form and sample fact sheet when a catalog loads; every
# statement of every incident). A compiled template is immutable, so both are kept by source text.
_CACHED_SOURCES = 512


@lru_cache(maxsize=_CACHED_SOURCES)
def _names_used(source: str) -> frozenset[str] | str:
    """The names ``source`` uses, or its syntax error worded for the author."""
    try:
        return frozenset(meta.find_undeclared_variables(_ENV.parse(source)))
    except TemplateSyntaxError as error:
        return f"line {error.lineno}: {error.message}"


@lru_cache(maxsize=_CACHED_SOURCES)
def _compiled(source: str):
    return _ENV.from_string(source)


def names_problems(source: str, internal: bool = False) -> list[str]:
    """The names a template uses that it may not: internal fields first, each named. ``internal``:
    the template of an internal audience's message, which may name the internal title and summary."""
    used = _names_used(source)
    if isinstance(used, str):
        return [used]
    if internal:
        used = used - INTERNAL_MESSAGE_NAMES
    allowed = ", ".join(sorted(TEMPLATE_NAMES))
    found = []
    for name in sorted(used & INTERNAL_NAMES):
        found.append(f"names '{name}', an internal field the public never reads; templates see only: {allowed}")
    for name in sorted(used - INTERNAL_NAMES - TEMPLATE_NAMES):
        found.append(f"names '{name}', which templates do not have; they see only: {allowed}")
    return found


def render_statement(source: str, context: StatementContext, form: Form = Form.LONG) -> str:
    if problems := names_problems(source, internal=context.internal is not None):
        raise TemplateProblem(problems[0])
    try:
        text = _compiled(source).render(
            kind=context.kind.value,
            form=form.value,
            organization=context.organization,
            next_update=context.next_update,
            changed=list(context.changed),
            **(context.internal or {}),
            **{name: getattr(context.fact_sheet, name) for name in FACT_SHEET_FIELDS},
        )
    except Exception as error:  # a template is data: whatever it raises is a problem with the template
        raise TemplateProblem(f"{type(error).__name__}: {error}") from None
    lines = [line.rstrip() for line in text.strip().splitlines()]
    if form is Form.TITLE:
        lines = [" ".join(" ".join(lines).split())]
    text = _PARAGRAPHS.sub("\n\n", "\n".join(lines))
    if not text:
        raise TemplateProblem(f"renders to an empty {context.kind.value} statement ({form.value} form)")
    return f"[DRILL] {text}" if context.drill else text


def long_text(variants: list[Variant]) -> str:
    """A statement's own text: its long form (the first short one when it has no long channel)."""
    longs = [v for v in variants if CHANNELS[v.channel].form is Form.LONG]
    return (longs or variants)[0].text


def render_forms(source: str, context: StatementContext) -> dict[Form, str]:
    return {form: render_statement(source, context, form) for form in Form}


def render_variants(source: str, context: StatementContext, channels: list[Channel] | None = None) -> list[Variant]:
    """The statement for every channel, measured against each channel's limit."""
    return build_variants(render_forms(source, context), channels)


# ---- samples: what `crisis playbooks check` renders every template with ------------------------

_FULL_SHEETS = {
    "en": FactSheet(
        headline="Our app and online ordering are not working for many customers in the UK and Poland",
        what_happened=(
            "Since about 10:40 this morning, payment at checkout in our app and on our website fails for many customers. "
            "Payments in our cafés work normally."
        ),
        who_is_affected=(
            "Customers ordering in the app or on our website in the UK and Poland. Orders at the counter are not affected."
        ),
        what_we_are_doing=(
            "Our engineers have found the component at fault and are rolling back the change made this morning. "
            "We are also checking every order placed since 10:40."
        ),
        what_to_do=(
            "If your order failed, please don't place it again yet: you won't be charged twice. You can order at the counter in"
            " any café."
        ),
        remedy="Any order you were charged for but did not receive will be refunded automatically within 5 working days.",
        status_page="https://status.northwind.example.com",
        faq="https://www.northwind.example.com/help/ordering-outage",
    ),
    "pl": FactSheet(
        headline="Aplikacja i zamówienia online nie działają u wielu klientów w Polsce i Wielkiej Brytanii",
        what_happened=(
            "Od około 10:40 płatność przy składaniu zamówienia w aplikacji i na stronie nie przechodzi u wielu klientów. "
            "Płatności w kawiarniach działają normalnie."
        ),
        who_is_affected=(
            "Osoby zamawiające w aplikacji lub na stronie w Polsce i Wielkiej Brytanii. Zamówień przy ladzie to nie dotyczy."
        ),
        what_we_are_doing=(
            "Nasi inżynierowie znaleźli źródło problemu i wycofują zmianę wprowadzoną dziś rano. "
            "Sprawdzamy też wszystkie zamówienia złożone od 10:40."
        ),
        what_to_do=(
            "Jeśli zamówienie się nie udało, nie składajcie go jeszcze ponownie – pieniądze nie zostaną pobrane dwa razy. Możecie"
            " zamówić przy ladzie."
        ),
        remedy="Za każde opłacone, a niezrealizowane zamówienie automatycznie zwrócimy pieniądze w ciągu 5 dni roboczych.",
        status_page="https://status.northwind.example.com",
        faq="https://www.northwind.example.com/pomoc/awaria-zamowien",
    ),
}
# The longest promise domain.promise words (a date when it is not today, a zone named), per language.
_NEXT_UPDATE = {"en": "15:30 CEST on 30 September", "pl": "30 października, godz. 15:30 CEST"}


def sample_sheets(language: str) -> list[FactSheet]:
    """An empty fact sheet (a topic that declared by itself, the fallback) and a full, realistic one."""
    return [FactSheet(), _FULL_SHEETS.get(language, _FULL_SHEETS["en"])]


def sample_contexts(organization: str, language: str = "en") -> list[StatementContext]:
    """Every kind with an empty and a full fact sheet, as a drill (the longest: "[DRILL] " first),
    with the longest next-update promise and every field changed since the last statement."""
    contexts = []
    for kind in StatementKind:
        for sheet in sample_sheets(language):
            promise = None if kind is StatementKind.RESOLUTION else _NEXT_UPDATE.get(language, _NEXT_UPDATE["en"])
            changed = (
                tuple(name for name in FACT_SHEET_FIELDS if getattr(sheet, name)) if kind is not StatementKind.HOLDING else ()
            )
            contexts.append(
                StatementContext(
                    kind=kind, organization=organization, fact_sheet=sheet, next_update=promise, changed=changed, drill=True
                )
            )
    return contexts


def template_problems(source: str, playbook, organization: str, language: str) -> list[tuple[str, str]]:
    """Why a playbook's template in ``language`` is not fit to publish from, as (where, why): a name
    it may not use (an internal field above all), a kind it cannot render, or a variant over its
    channel's limit with an empty or a full realistic fact sheet. ``where`` is the statement kind."""
    if found := names_problems(source):
        return [("", reason) for reason in found]
    channels = playbook.communicate.channels
    limit = playbook.communicate.max_length
    problems: list[tuple[str, str]] = []
    for context in sample_contexts(organization, language):
        sheet = "an empty" if context.fact_sheet.is_empty() else "a full"
        try:
            variants = render_variants(source, context, channels)
        except TemplateProblem as error:
            problems.append((context.kind.value, str(error)))
            continue
        problems += [(context.kind.value, f"with {sheet} fact sheet, {problem}") for problem in variant_problems(variants)]
        longest = max(len(v.text) for v in variants)
        if limit is not None and longest > limit:
            problems.append(
                (
                    context.kind.value,
                    f"with {sheet} fact sheet, renders to {longest} characters, over communicate.max_length {limit}",
                )
            )
    return list(dict.fromkeys(problems))
