"""Shared builders for the pure-domain unit tests: the fixture catalog, broken copies of it, and a
small driver that moves an :class:`Incident` through its phases in the order the workflow does.

The domain tests read their own copy of the playbooks and roster (``tests/unit/fixtures/playbooks``,
copied from ``playbooks/`` when written), so editing the shipped YAML breaks no domain test; the
tests about the shipped folder itself (``crisis readiness``, ``crisis playbooks check``, every
shipped template renders) read ``SHIPPED``."""

import shutil
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from domain.actions import (
    Acknowledge,
    Assessment,
    Resolution,
    ReviewSubmission,
    StatementDecision,
    StatementDraft,
    TaskCompletion,
    Verdict,
)
from domain.answers import pin_answers
from domain.catalog import Catalog, CatalogError, load_catalog
from domain.incident import Incident, IncidentPlan, Phase, StatementVersion
from domain.playbook import Playbook
from domain.severity import Severity
from domain.statements import StatementKind

SHIPPED = Path(__file__).resolve().parents[2] / "playbooks"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "playbooks"
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
SYSTEM = "crisisflow"

# People of the fixture roster, by the roles they hold in the account_compromise playbook.
EWA = "ewa.lewandowska"  # incident_commander (1st) and comms_lead (2nd)
JAMES = "james.whitfield"  # incident_commander (2nd) and executive_sponsor (2nd)
ANNA = "anna.kowalska"  # comms_lead (1st)
MARIA = "maria.nowak"  # social_media_manager (1st)
TOM = "tom.hughes"  # social_media_manager (2nd), customer_care_lead (2nd)
PIOTR = "piotr.zielinski"  # security_lead (1st)
OLIVIA = "olivia.hart"  # security_lead (2nd), engineering_on_call (2nd)
KASIA = "katarzyna.wisniewska"  # legal (1st)
DANIEL = "daniel.reyes"  # legal (2nd)
EMILY = "emily.carter"  # customer_care_lead only: never paged by account_compromise
SARAH = "sarah.collins"  # executive_sponsor only
COMMANDERS = [EWA, JAMES, SARAH]  # incident_commander policy: Ewa, then James, then every executive sponsor


# ---- catalog ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def fixture_catalog() -> Catalog:
    return load_catalog(FIXTURES)


@pytest.fixture(scope="session")
def shipped_catalog() -> Catalog:
    return load_catalog(SHIPPED)


@pytest.fixture
def catalog(request, fixture_catalog: Catalog) -> Catalog:
    """The fixture catalog; the shipped one for a test about the shipped folder (``@pytest.mark.shipped``)."""
    return request.getfixturevalue("shipped_catalog") if request.node.get_closest_marker("shipped") else fixture_catalog


def copy_fixtures(target: Path, only: tuple[str, ...] | None = None) -> Path:
    """Copy the fixture playbooks folder to ``target``; with ``only``, keep just the roster and
    those playbooks (and their templates). load_catalog parses YAML in pure Python, so a folder
    with one playbook keeps a test that breaks that playbook several times faster."""

    def ignore(directory: str, names: list[str]) -> list[str]:
        if only is None:
            return []
        keep = (
            {"team.yaml", "templates"}
            | {f"{p}.yaml" for p in only}
            | {f"{p}.{language}.j2" for p in only for language in ("en", "pl")}
        )
        internal = tuple(f"{p}_" for p in only)  # the playbook's internal audiences' templates
        return [name for name in names if name not in keep and not (name.startswith(internal) and name.endswith(".j2"))]

    shutil.copytree(FIXTURES, target, ignore=ignore)
    return target


@pytest.fixture
def full_folder(tmp_path: Path) -> Path:
    """A private copy of the whole fixture playbooks folder, to break things in."""
    return copy_fixtures(tmp_path / "playbooks")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A private copy of the fixture folder with only team.yaml and the misinformation playbook,
    for tests that break one thing in one playbook or in the roster."""
    return copy_fixtures(tmp_path / "playbooks", only=("misinformation",))


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def edit_yaml(path: Path, mutate: Callable[[Any], None]) -> None:
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    mutate(data)
    path.write_text(yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True), encoding="utf-8")


def problems_of(directory: Path) -> list[str]:
    """Every problem load_catalog reports for ``directory``, as the lines the CLI prints."""
    with pytest.raises(CatalogError) as info:
        load_catalog(directory)
    return [str(problem) for problem in info.value.problems]


# ---- incidents -------------------------------------------------------------------------------


def variant(playbook: Playbook, mutate: Callable[[dict], None]) -> Playbook:
    """A validated copy of ``playbook`` with ``mutate`` applied to its JSON form."""
    data = playbook.model_dump(mode="json")
    mutate(data)
    return Playbook.model_validate(data)


def make_plan(
    catalog: Catalog,
    playbook: str | Playbook = "account_compromise",
    severity: Severity = Severity.SEV2,
    drill: bool = False,
) -> IncidentPlan:
    if isinstance(playbook, str):
        playbook = catalog.playbooks[playbook]
    return IncidentPlan(
        id="inc-1",
        title="Instagram account hijacked",
        summary="Our Instagram account is posting a fake giveaway.",
        severity=severity,
        language="en",
        drill=drill,
        declared_by=EWA,
        playbook=playbook,
        org=catalog.roster.org_chart(),
        template=catalog.template(playbook, "en"),
        answers=pin_answers(catalog.answers.get(playbook.id), "en"),
        internal_templates=catalog.internal_templates(playbook, "en"),
    )


class Driver:
    """Moves an incident along like the workflow: every action is checked first, as the Update
    validators do, then applied at the driver's clock (``now``), which tests advance with ``tick``."""

    def __init__(self, plan: IncidentPlan, now: datetime = T0):
        self.now = now
        self.incident = Incident(plan, now)

    @property
    def state(self):
        return self.incident.state

    def tick(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    # single steps

    def acknowledge(self, person: str = EWA) -> None:
        action = Acknowledge(person=person)
        self.incident.check_acknowledge(action)
        self.incident.acknowledge(action, self.now)

    def enter(self, phase: Phase) -> None:
        self.incident.enter(phase, self.now)

    def assess(self, person: str = EWA, **fields: Any) -> None:
        if "impact" not in fields and "reach" not in fields:
            fields.setdefault("severity", self.incident.severity)
        action = Assessment(person=person, **fields)
        self.incident.check_assessment(action)
        self.incident.assess(action, self.now)

    def complete(self, task_id: str, person: str = EWA, note: str | None = None) -> None:
        action = TaskCompletion(person=person, note=note)
        self.incident.check_complete_task(task_id, action)
        self.incident.complete_task(task_id, action, self.now)

    def system_draft(self, kind: StatementKind | None = None, text: str | None = None) -> StatementVersion:
        kind = kind or self.incident.next_statement_kind()
        return self.incident.add_statement(kind, text or f"A {kind.value} statement.", SYSTEM, self.now)

    def draft(self, text: str, person: str = ANNA) -> StatementVersion:
        action = StatementDraft(person=person, text=text)
        self.incident.check_statement_draft(action)
        return self.incident.draft_statement(action, self.now)

    def decide(self, version: int, person: str, verdict: Verdict = Verdict.APPROVE, comment: str | None = None) -> None:
        action = StatementDecision(person=person, decision=verdict, comment=comment)
        self.incident.check_decision(version, action)
        self.incident.decide(version, action, self.now)

    def approve_all(self, version: int, people: tuple[str, ...] = (PIOTR, KASIA)) -> None:
        for person in people:
            self.decide(version, person)

    def publish(self, version: int) -> None:
        self.incident.mark_published(version, self.now)

    def resolve(self, person: str = EWA, summary: str = "Access recovered; the fake posts are gone.") -> None:
        action = Resolution(person=person, summary=summary)
        self.incident.check_resolve(action)
        self.incident.resolve(action, self.now)

    def review(self, person: str = EWA, summary: str = "We recovered quickly.") -> None:
        action = ReviewSubmission(person=person, summary=summary)
        self.incident.check_review(action)
        self.incident.submit_review(action, self.now)

    # whole stages, as the workflow runs them

    def to_assess(self) -> "Driver":
        self.acknowledge(EWA)
        self.enter(Phase.ASSESS)
        return self

    def to_respond(self) -> "Driver":
        self.to_assess()
        self.assess()
        self.enter(Phase.RESPOND)
        return self

    def to_communicate(self) -> "Driver":
        self.to_respond()
        for task in self.incident.open_tasks():
            self.complete(task.id)
        assert self.incident.ready_to_communicate()
        self.enter(Phase.COMMUNICATE)
        return self

    def with_published_holding(self) -> "Driver":
        self.to_communicate()
        holding = self.system_draft(StatementKind.HOLDING)
        self.approve_all(holding.version)
        self.publish(holding.version)
        return self

    def to_closed(self) -> "Driver":
        """The full happy path of the workflow: holding published, resolved, resolution
        published, review submitted, closed."""
        self.with_published_holding()
        self.tick(minutes=30)
        self.resolve()
        self.incident.withdraw_in_flight(self.now)
        assert self.incident.resolution_statement_due()
        resolution = self.system_draft(StatementKind.RESOLUTION)
        self.approve_all(resolution.version)
        self.publish(resolution.version)
        assert self.incident.communication_finished()
        self.incident.withdraw_in_flight(self.now)
        self.incident.cancel_open_tasks(self.now)
        self.enter(Phase.REVIEW)
        self.tick(days=1)
        self.review()
        self.enter(Phase.CLOSED)
        return self


@pytest.fixture
def plan(catalog: Catalog) -> IncidentPlan:
    return make_plan(catalog)


@pytest.fixture
def drive(plan: IncidentPlan) -> Driver:
    return Driver(plan)
