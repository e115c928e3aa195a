"""Drills: a playbook run as an exercise, by the whole team or by named participants.

With participants, the pinned org chart holds only them: every escalation level keeps just the
participants on it, a role none of them holds is played by all of them (in the order given), and
no one else can act. Paging, tasks, approvals and reminders then reach the participants and
nobody else; stakeholder briefings are left out for the same reason. Publishing in a drill only
ever reaches the outbox (``activities.publish``), and every message is marked ``[DRILL]``.
"""

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from domain.catalog import Catalog
from domain.durations import Duration
from domain.incident import IncidentPlan
from domain.roster import OrgChart, PolicyLevel, RolePolicy
from domain.safe_text import OneLine, long_text, one_line
from domain.severity import Severity

MIN_INTERVAL = timedelta(days=1)
MAX_INTERVAL = timedelta(days=5 * 365)  # a drill "every 50 years" is a typo, and Temporal refuses absurd intervals


class DrillRequest(BaseModel):
    """What a drill is asked with: over HTTP (``POST /drills``), by the CLI, and as the argument a
    Temporal Schedule passes to every scheduled run."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    playbook: OneLine = Field(min_length=1, max_length=100, description="Playbook id, see GET /playbooks.")
    participants: list[OneLine] = Field(
        default_factory=list, max_length=100, description="Person ids taking part; empty: the whole team."
    )
    severity: Severity | None = Field(None, description="Defaults to the playbook's default severity.")
    title: one_line(max_length=200) | None = Field(None, description="Defaults to 'Drill: <playbook name>'.")
    summary: long_text(max_length=5000) | None = None
    language: one_line(max_length=10) | None = None
    declared_via: SkipJsonSchema[one_line(max_length=120) | None] = Field(
        None, description="Who declares: set by the server (the schedule's maker), never by a caller."
    )


class DrillSchedule(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    playbook: OneLine = Field(min_length=1, max_length=100)
    every: Duration = Field(description="Interval between drills, like 90d (at least 1d).")
    participants: list[OneLine] = Field(default_factory=list, max_length=100)
    severity: Severity | None = None

    def request(self, declared_via: str | None = None) -> DrillRequest:
        return DrillRequest(
            playbook=self.playbook, participants=self.participants, severity=self.severity, declared_via=declared_via
        )


class DrillProblem(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def drill_org(org: OrgChart, participants: list[str]) -> OrgChart:
    """The org chart with only ``participants`` in it (see the module docstring)."""
    everyone = list(dict.fromkeys(participants))

    def keep(people: list[str]) -> list[str]:
        return [p for p in people if p in everyone]

    escalation = {role: keep(members) or list(everyone) for role, members in org.escalation.items()}
    policies = {}
    for role in org.escalation:
        levels = [level.model_copy(update={"people": keep(level.people)}) for level in org.policy(role).levels]
        levels = [level for level in levels if level.people] or [PolicyLevel(people=[person]) for person in escalation[role]]
        policies[role] = RolePolicy(levels=levels, repeat=org.policy(role).repeat)
    return OrgChart(organization=org.organization, people=everyone, escalation=escalation, policies=policies)


def drill_plan(catalog: Catalog, request: DrillRequest, incident_id: str) -> IncidentPlan:
    """The plan a drill runs, or :class:`DrillProblem` naming the field that does not fit."""
    playbook = catalog.playbooks.get(request.playbook)
    if playbook is None:
        raise DrillProblem(f"playbook: unknown playbook '{request.playbook}' (known: {', '.join(sorted(catalog.playbooks))})")
    language = request.language or playbook.languages[0]
    if language not in playbook.languages:
        raise DrillProblem(f"language: '{language}' is not offered by {playbook.id} ({', '.join(playbook.languages)})")
    org = catalog.roster.org_chart()
    if request.participants:
        unknown = [p for p in request.participants if p not in org.people]
        if unknown:
            raise DrillProblem(f"participants: not in the team roster: {', '.join(unknown)}")
        commanders = org.members(playbook.identify.commander)
        if not any(p in commanders for p in request.participants):
            raise DrillProblem(
                f"participants: a drill needs someone who holds {playbook.identify.commander} ({', '.join(commanders)}) to"
                " acknowledge and assess"
            )
        org = drill_org(org, request.participants)
        playbook = playbook.model_copy(update={"stakeholders": []})
    return IncidentPlan(
        id=incident_id,
        title=request.title or f"Drill: {playbook.name}",
        summary=request.summary or f"An exercise of the {playbook.name} playbook. Nothing is published outside crisisflow.",
        severity=request.severity or playbook.default_severity,
        language=language,
        drill=True,
        participants=list(dict.fromkeys(request.participants)),
        declared_via=request.declared_via,
        playbook=playbook,
        org=org,
        template=catalog.template(playbook, language),
    )
