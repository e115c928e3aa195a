"""Loading and checking a playbooks folder: the roster, every playbook and their templates.

Every problem is reported as ``file:path.to.field: reason`` so an editor (or CI of a company's
playbook repository) can point at the exact line to fix. Nothing is half-loaded: a catalog with
any problem is refused whole.
"""

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml
from pydantic import ValidationError

from domain.listening import Topic, TopicsFile
from domain.playbook import Playbook
from domain.risks import AnswerKit, Risk, RiskRegister
from domain.roster import OrgChart, Roster
from domain.statements import TemplateProblem, internal_context, render_statement, sample_contexts, template_problems

ROSTER_FILE = "team.yaml"
TEMPLATES_DIR = "templates"
RISKS_FILE = "risks.yaml"
TOPICS_FILE = "topics.yaml"
ANSWERS_DIR = "answers"
NOT_PLAYBOOKS = {ROSTER_FILE, RISKS_FILE, TOPICS_FILE}


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.path}: {self.reason}" if self.path else f"{self.file}: {self.reason}"


class CatalogError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class Catalog:
    directory: Path
    roster: Roster
    playbooks: dict[str, Playbook]
    templates: dict[tuple[str, str], str] = field(default_factory=dict)
    risks: list[Risk] = field(default_factory=list)  # empty when the folder has no risks.yaml
    answers: dict[str, AnswerKit] = field(default_factory=dict)  # playbook id -> its answers kit
    topics: list[Topic] = field(default_factory=list)  # monitored topics; empty when there is no topics.yaml

    @cached_property
    def org_chart(self) -> OrgChart:
        """The roster's org chart, which every declaration pins: built once, as a catalog's roster
        does not change once loaded, and frozen, so the plans of many incidents may hold the same one."""
        return self.roster.org_chart()

    def template(self, playbook: Playbook, language: str) -> str:
        return self.templates[(playbook.communicate.template, language)]

    def internal_templates(self, playbook: Playbook, language: str) -> dict[str, str]:
        """Each internal audience's template source in one language, by audience id."""
        return {audience.id: self.templates[(audience.template, language)] for audience in playbook.internal}


def _read_yaml(path: Path, label: str, problems: list[Problem]) -> object | None:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        reason = getattr(error, "problem", None) or str(error)
        problems.append(Problem(label, where, f"not valid YAML: {reason}"))
    except (OSError, UnicodeDecodeError) as error:
        problems.append(Problem(label, "", f"cannot be read: {error}"))
    return None


def _read_mapping(path: Path, label: str, problems: list[Problem]) -> dict | None:
    data = _read_yaml(path, label, problems)
    if data is None and not any(p.file == label for p in problems):
        problems.append(Problem(label, "", "is empty"))
    elif data is not None and not isinstance(data, dict):
        problems.append(Problem(label, "", f"must be a mapping of fields, not a {type(data).__name__}"))
        return None
    return data


def _read_optional_mapping(path: Path, problems: list[Problem]) -> tuple[str, dict] | None:
    """An optional file of the folder: (its label, its mapping), or None when it is absent or unreadable (the problem noted)."""
    if not path.exists():
        return None
    label = str(path)
    data = _read_mapping(path, label, problems)
    return None if data is None else (label, data)


def _validation_problems(label: str, error: ValidationError) -> list[Problem]:
    found = []
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        found.append(Problem(label, path, message))
    return found


def load_catalog(directory: Path) -> Catalog:
    """Load and cross-check everything; raise :class:`CatalogError` listing every problem."""
    directory = Path(directory)
    problems: list[Problem] = []
    if not directory.is_dir():
        raise CatalogError([Problem(str(directory), "", "is not a folder")])

    roster: Roster | None = None
    roster_path = directory / ROSTER_FILE
    roster_label = str(roster_path)
    if not roster_path.exists():
        problems.append(Problem(roster_label, "", "missing: the crisis team roster is required"))
    else:
        data = _read_mapping(roster_path, roster_label, problems)
        if data is not None:
            try:
                roster = Roster.model_validate(data)
                problems += [Problem(roster_label, path, reason) for path, reason in roster.problems()]
            except ValidationError as error:
                problems += _validation_problems(roster_label, error)

    playbooks: dict[str, Playbook] = {}
    templates: dict[tuple[str, str], str] = {}
    files = sorted(p for p in directory.glob("*.y*ml") if p.name not in NOT_PLAYBOOKS)
    if not files:
        problems.append(Problem(str(directory), "", "holds no playbook (*.yaml besides team.yaml)"))
    for path in files:
        label = str(path)
        data = _read_mapping(path, label, problems)
        if data is None:
            continue
        try:
            playbook = Playbook.model_validate(data)
        except ValidationError as error:
            problems += _validation_problems(label, error)
            continue
        if playbook.id != path.stem:
            problems.append(Problem(label, "id", f"'{playbook.id}' must match the file name '{path.stem}'"))
        if playbook.id in playbooks:
            problems.append(Problem(label, "id", f"'{playbook.id}' is used by another playbook"))
        if roster is not None:
            for where, role in playbook.roles_used():
                if role not in roster.roles:
                    known = ", ".join(sorted(roster.roles))
                    problems.append(Problem(label, where, f"unknown role '{role}' (team.yaml has: {known})"))
            for index, group in enumerate(playbook.stakeholders):
                if group not in roster.stakeholders:
                    known = ", ".join(sorted(roster.stakeholders)) or "none"
                    problems.append(
                        Problem(label, f"stakeholders.{index}", f"unknown stakeholder group '{group}' (team.yaml has: {known})")
                    )
        # A plan that cannot work, named where it is not already reported as naming an unknown role.
        reported = {p.path for p in problems if p.file == label}
        problems += [Problem(label, where, reason) for where, reason in playbook.plan_problems() if where not in reported]
        for language in playbook.languages:
            name = f"{playbook.communicate.template}.{language}.j2"
            template_path = directory / TEMPLATES_DIR / name
            if not template_path.exists():
                problems.append(
                    Problem(label, "communicate.template", f"{TEMPLATES_DIR}/{name} is missing for language '{language}'")
                )
                continue
            try:
                source = template_path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                problems.append(Problem(str(template_path), "", f"cannot be read: {error}"))
                continue
            organization = roster.organization.name if roster else "Example"
            problems += [
                Problem(str(template_path), kind, reason)
                for kind, reason in template_problems(source, playbook, organization, language)
            ]
            templates[(playbook.communicate.template, language)] = source
        _load_internal_templates(directory, playbook, label, roster, templates, problems)
        playbooks[playbook.id] = playbook

    known_playbooks = {path.stem: playbooks.get(path.stem) for path in files}
    risks = _load_risks(directory, roster, known_playbooks, problems)
    answers = _load_answers(directory, known_playbooks, problems)
    topics = _load_topics(directory, known_playbooks, problems)

    if problems or roster is None:
        raise CatalogError(problems)
    return Catalog(
        directory=directory, roster=roster, playbooks=playbooks, templates=templates, risks=risks, answers=answers, topics=topics
    )


def _load_internal_templates(
    directory: Path,
    playbook: Playbook,
    label: str,
    roster: Roster | None,
    templates: dict[tuple[str, str], str],
    problems: list[Problem],
) -> None:
    """Every internal audience's groups exist and its template renders in every language."""
    for index, audience in enumerate(playbook.internal):
        for position, group in enumerate(audience.groups):
            if roster is not None and group not in roster.stakeholders:
                known = ", ".join(sorted(roster.stakeholders)) or "none"
                problems.append(
                    Problem(
                        label,
                        f"internal.{index}.groups.{position}",
                        f"unknown stakeholder group '{group}' (team.yaml has: {known})",
                    )
                )
        for language in playbook.languages:
            name = f"{audience.template}.{language}.j2"
            path = directory / TEMPLATES_DIR / name
            if not path.exists():
                problems.append(
                    Problem(label, f"internal.{index}.template", f"{TEMPLATES_DIR}/{name} is missing for language '{language}'")
                )
                continue
            try:
                source = path.read_text(encoding="utf-8")
                sample = sample_contexts(roster.organization.name if roster else "Example")[1]
                render_statement(
                    source,
                    internal_context(
                        sample.kind, sample.organization, sample.fact_sheet, "Sample incident", "A sample summary.", "SEV2"
                    ),
                )
            except (OSError, UnicodeDecodeError) as error:
                problems.append(Problem(str(path), "", f"cannot be read: {error}"))
                continue
            except TemplateProblem as error:
                problems.append(Problem(str(path), "internal", str(error)))
                continue
            templates[(audience.template, language)] = source


def _load_risks(directory: Path, roster: Roster | None, known: dict[str, Playbook | None], problems: list[Problem]) -> list[Risk]:
    """The optional risk register; a playbook whose own file is broken is reported there, not here."""
    if (read := _read_optional_mapping(directory / RISKS_FILE, problems)) is None:
        return []
    label, data = read
    items = data.get("risks")
    if not isinstance(items, list) or not items or set(data) != {"risks"}:
        try:
            RiskRegister.model_validate(data)
        except ValidationError as error:
            problems += _validation_problems(label, error)
        return []
    # One risk at a time, so a schema problem in one risk does not hide the others' cross-references.
    checked: list[tuple[int, Risk]] = []
    for index, item in enumerate(items):
        try:
            checked.append((index, Risk.model_validate(item)))
        except ValidationError as error:
            problems += [
                Problem(label, f"risks.{index}.{p.path}".rstrip("."), p.reason) for p in _validation_problems(label, error)
            ]
    seen: set[str] = set()
    for index, risk in checked:
        if risk.id in seen:
            problems.append(Problem(label, f"risks.{index}.id", f"'{risk.id}' is used by another risk"))
        seen.add(risk.id)
    for index, risk in checked:
        where = f"risks.{index}"
        if risk.playbook not in known:
            problems.append(
                Problem(label, f"{where}.playbook", f"unknown playbook '{risk.playbook}' (known: {', '.join(sorted(known))})")
            )
        elif known[risk.playbook] is not None and known[risk.playbook].scenario != risk.scenario:
            problems.append(
                Problem(
                    label,
                    f"{where}.scenario",
                    f"'{risk.scenario.value}' but playbook '{risk.playbook}' answers '{known[risk.playbook].scenario.value}'",
                )
            )
        if roster is not None and risk.owner not in roster.roles:
            problems.append(
                Problem(
                    label, f"{where}.owner", f"unknown role '{risk.owner}' (team.yaml has: {', '.join(sorted(roster.roles))})"
                )
            )
    return [risk for _, risk in checked]


def _load_answers(directory: Path, known: dict[str, Playbook | None], problems: list[Problem]) -> dict[str, AnswerKit]:
    """Optional answers kits, ``answers/<playbook id>.yaml``; each must cover its playbook's languages."""
    folder = directory / ANSWERS_DIR
    kits: dict[str, AnswerKit] = {}
    if not folder.is_dir():
        return kits
    for path in sorted(folder.glob("*.y*ml")):
        label = str(path)
        if path.stem not in known:
            problems.append(
                Problem(label, "", f"names no playbook: the file name must be a playbook id ({', '.join(sorted(known))})")
            )
            continue
        data = _read_mapping(path, label, problems)
        if data is None:
            continue
        try:
            kit = AnswerKit.model_validate(data)
        except ValidationError as error:
            problems += _validation_problems(label, error)
            continue
        problems += [Problem(label, where, reason) for where, reason in kit.gaps()]
        playbook = known[path.stem]
        if playbook is not None:
            for language in playbook.languages:
                if language not in kit.languages:
                    problems.append(
                        Problem(label, "languages", f"must include '{language}', a language of playbook '{playbook.id}'")
                    )
            tasks = [task.id for task in playbook.respond.tasks]
            for index, answer in enumerate(kit.answers):
                if (
                    answer.released_by is not None
                    and answer.released_by.task is not None
                    and answer.released_by.task not in tasks
                ):
                    problems.append(
                        Problem(
                            label,
                            f"answers.{index}.released_by.task",
                            f"unknown task '{answer.released_by.task}' (playbook '{playbook.id}' has: {', '.join(tasks)})",
                        )
                    )
        kits[path.stem] = kit
    return kits


def _load_topics(directory: Path, known: dict[str, Playbook | None], problems: list[Problem]) -> list[Topic]:
    """The optional monitored topics for listening; every playbook they suggest must exist."""
    if (read := _read_optional_mapping(directory / TOPICS_FILE, problems)) is None:
        return []
    label, data = read
    try:
        topics = TopicsFile.model_validate(data).topics
    except ValidationError as error:
        problems += _validation_problems(label, error)
        return []
    for index, topic in enumerate(topics):
        for where, playbook in topic.playbooks_used():
            if playbook not in known:
                problems.append(
                    Problem(
                        label, f"topics.{index}.{where}", f"unknown playbook '{playbook}' (known: {', '.join(sorted(known))})"
                    )
                )
    return topics
