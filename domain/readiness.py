"""Readiness: is the team and the plan ready for each risk of the register? Pure rules.

For each risk, every check either passes or fails (and names the fix). A risk is ready when no
check fails: a playbook never drilled is not ready, however sound it reads. The overall score
weighs each risk's share of passed checks by its priority, so an unready critical risk costs more
than an unready low one.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import phonenumbers

from domain.catalog import Catalog
from domain.durations import format_duration, humanize
from domain.playbook import Playbook
from domain.risks import ANSWER_LANGUAGES, AnswerKit, Band, Risk
from domain.roster import Person, Roster
from domain.statements import template_problems

MIN_PEOPLE_PER_ROLE = 2
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Ranges reserved for fiction, which libphonenumber calls invalid: accepted so an example roster
# never points at a real person. Ofcom's drama range, 07700 900000–900999.
FICTIONAL_PHONES = (re.compile(r"^\+447700900\d{3}$"),)


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not Status.FAIL


@dataclass(frozen=True)
class RiskReadiness:
    risk: Risk
    checks: tuple[Check, ...]
    last_drill: date | None

    @property
    def ready(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def score(self) -> float:
        """Share of passed checks; 1.0 is fully ready."""
        return sum(c.status is Status.PASS for c in self.checks) / len(self.checks) if self.checks else 1.0

    @property
    def failing(self) -> list[Check]:
        return [c for c in self.checks if c.status is Status.FAIL]

    @property
    def only_undrilled(self) -> bool:
        """Not ready only because its playbook was never drilled."""
        return self.last_drill is None and [c.name for c in self.failing] == ["drill"]


@dataclass(frozen=True)
class Readiness:
    risks: tuple[RiskReadiness, ...]

    @property
    def score(self) -> float:
        """Priority-weighted mean of the risks' scores; 1.0 with no risks at all."""
        total = sum(r.risk.priority for r in self.risks)
        return sum(r.score * r.risk.priority for r in self.risks) / total if total else 1.0

    @property
    def ready(self) -> int:
        return sum(r.ready for r in self.risks)

    @property
    def blocking(self) -> list[RiskReadiness]:
        """Critical risks that are not ready: these fail `crisis readiness`."""
        return [r for r in self.risks if r.risk.band is Band.CRITICAL and not r.ready]

    def gate(self, allow_undrilled: bool = False) -> list[RiskReadiness]:
        """The critical risks that fail the CI gate. ``allow_undrilled`` lets a team that has not run
        its first drills yet keep a green gate: a risk whose only failure is "never drilled" passes
        it, and is still reported not ready."""
        return [r for r in self.blocking if not (allow_undrilled and r.only_undrilled)]


def phone_problem(phone: str) -> str | None:
    """Why ``phone`` is not a well-formed, dialable E.164 number, or None when it is."""
    if any(pattern.match(phone) for pattern in FICTIONAL_PHONES):
        return None
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException as error:
        return f"'{phone}' cannot be read as a phone number ({error})"
    if phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) != phone:
        return f"'{phone}' is not written in E.164 (+ country code, then digits only)"
    if not phonenumbers.is_valid_number(number):
        return f"'{phone}' is not a valid number for its country"
    return None


def email_problem(email: str) -> str | None:
    return None if _EMAIL.match(email) else f"'{email}' is not an email address"


def check_playbook(risk: Risk, playbooks: Mapping[str, Playbook]) -> Check:
    playbook = playbooks.get(risk.playbook)
    if playbook is None:
        return Check(
            "playbook",
            Status.FAIL,
            f"playbook '{risk.playbook}' does not exist",
            f"write playbooks/{risk.playbook}.yaml (docs/playbooks.md), then run `crisis playbooks check`",
        )
    return Check("playbook", Status.PASS, f"{playbook.name} ({risk.playbook}) exists and validates")


def check_escalation(playbook: Playbook, roster: Roster) -> Check:
    chart = roster.org_chart()
    thin = [(role, chart.members(role)) for role in playbook.identify.page if len(chart.members(role)) < MIN_PEOPLE_PER_ROLE]
    if not thin:
        return Check(
            "escalation",
            Status.PASS,
            f"every paged role has at least {MIN_PEOPLE_PER_ROLE} people: " + ", ".join(playbook.identify.page),
        )
    detail = "; ".join(f"{role} has {len(people)} ({', '.join(people) or 'nobody'})" for role, people in thin)
    fix = "; ".join(f"add a second person to roles.{role}.escalation in team.yaml" for role, _ in thin)
    return Check("escalation", Status.FAIL, detail, fix)


def check_contacts(playbook: Playbook, roster: Roster) -> Check:
    chart = roster.org_chart()
    people: list[Person] = []
    for role in playbook.identify.page:
        for person_id in chart.members(role):
            person = roster.person(person_id)
            if person is not None and person not in people:
                people.append(person)
    bad = []
    fixes = []
    for person in people:
        index = roster.people.index(person)
        for field, problem in (("phone", phone_problem(person.phone)), ("email", email_problem(person.email))):
            if problem:
                bad.append(f"{person.id}: {problem}")
                fixes.append(f"correct people.{index}.{field} in team.yaml")
    if not bad:
        return Check("contacts", Status.PASS, f"all {len(people)} paged people have a valid phone and email")
    return Check("contacts", Status.FAIL, "; ".join(bad), "; ".join(fixes))


def check_templates(playbook: Playbook, templates: Mapping[tuple[str, str], str], organization: str) -> Check:
    missing, broken = [], []
    for language in playbook.languages:
        source = templates.get((playbook.communicate.template, language))
        if source is None:
            missing.append(language)
            continue
        broken += [
            f"{' '.join(filter(None, (language, kind)))}: {reason}"
            for kind, reason in template_problems(source, playbook, organization, language)
        ]
    name = playbook.communicate.template
    if missing:
        files = ", ".join(f"templates/{name}.{language}.j2" for language in missing)
        return Check("templates", Status.FAIL, f"no statement template for {', '.join(missing)}", f"write {files}")
    if broken:
        return Check(
            "templates",
            Status.FAIL,
            "; ".join(broken),
            f"fix templates/{name}.<language>.j2 until it renders within every channel's limit",
        )
    return Check("templates", Status.PASS, f"statements render within every channel's limit in {', '.join(playbook.languages)}")


def check_answers(playbook: Playbook, kit: AnswerKit | None) -> Check:
    needed = list(dict.fromkeys(ANSWER_LANGUAGES + playbook.languages))
    if kit is None:
        return Check(
            "answers",
            Status.FAIL,
            "no answers kit",
            f"write playbooks/answers/{playbook.id}.yaml with answers in {', '.join(needed)}",
        )
    missing = [language for language in needed if language not in kit.languages]
    if missing:
        return Check(
            "answers",
            Status.FAIL,
            f"answers kit lacks {', '.join(missing)}",
            f"add {', '.join(missing)} to languages and every answer in playbooks/answers/{playbook.id}.yaml",
        )
    return Check("answers", Status.PASS, f"{len(kit.answers)} pre-approved answers in {', '.join(kit.languages)}")


def check_drill(risk: Risk, last_drill: date | None, today: date) -> Check:
    interval = humanize(risk.drill_every)
    fix = (
        f"run a drill of {risk.playbook}: crisis drill {risk.playbook} (or schedule one: crisis drill schedule {risk.playbook}"
        f" --every {format_duration(risk.drill_every)})"
    )
    if last_drill is None:
        return Check("drill", Status.FAIL, f"never drilled (due every {interval})", fix)
    age = today - last_drill
    if age > risk.drill_every:
        return Check("drill", Status.FAIL, f"last drill {last_drill.isoformat()}, overdue (due every {interval})", fix)
    return Check("drill", Status.PASS, f"last drill {last_drill.isoformat()} (due every {interval})")


def assess_risk(
    risk: Risk,
    catalog: Catalog,
    today: date,
    last_drill: date | None = None,
) -> RiskReadiness:
    checks = [check_playbook(risk, catalog.playbooks)]
    playbook = catalog.playbooks.get(risk.playbook)
    if playbook is not None:
        checks += [
            check_escalation(playbook, catalog.roster),
            check_contacts(playbook, catalog.roster),
            check_templates(playbook, catalog.templates, catalog.roster.organization.name),
            check_answers(playbook, catalog.answers.get(playbook.id)),
        ]
    checks.append(check_drill(risk, last_drill, today))
    return RiskReadiness(risk=risk, checks=tuple(checks), last_drill=last_drill)


def assess(
    catalog: Catalog,
    today: date,
    last_drills: Mapping[str, date] | None = None,
) -> Readiness:
    """Readiness of every risk, highest priority first. ``last_drills`` maps a playbook id to the
    date of its last drill (from the drill records; a playbook missing from it was never drilled)."""
    last_drills = last_drills or {}
    ordered = sorted(catalog.risks, key=lambda r: (-r.priority, -r.impact, r.id))
    return Readiness(risks=tuple(assess_risk(r, catalog, today, last_drills.get(r.playbook)) for r in ordered))


# ---- reachability ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unreachable:
    channel: str
    person: str
    reason: str
    fix: str


def unreachable(roster: Roster, channels: list[str]) -> list[Unreachable]:
    """Who cannot be reached on each of ``channels`` (sms, call, email, slack) and why; Teams posts
    to a channel, not to people, so everyone reads it."""
    found = []
    for channel in channels:
        for index, person in enumerate(roster.people):
            if channel in ("sms", "call") and (problem := phone_problem(person.phone)):
                found.append(Unreachable(channel, person.id, problem, f"correct people.{index}.phone in team.yaml"))
            elif channel == "email" and (problem := email_problem(person.email)):
                found.append(Unreachable(channel, person.id, problem, f"correct people.{index}.email in team.yaml"))
            elif channel == "slack" and not person.slack:
                found.append(Unreachable(channel, person.id, "no Slack member id", f"add people.{index}.slack (U…) in team.yaml"))
    return found


def calling_roles(roster: Roster) -> list[str]:
    """Roles whose escalation policy has a level that calls."""
    return [name for name, role in roster.roles.items() if any("call" in level.channels for level in role.policy().levels)]
