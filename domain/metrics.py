"""What an incident's record says about how the team did: pure arithmetic on its state.

Every figure is measured from the declaration (time to detect: from the first related mention to
the declaration). A deadline counts as met or missed with the margin; a deadline that was still
open when it stopped mattering (resolved before it fell due) is ``moot`` and counts neither way.
The score is the share of counted deadlines that were met: a drill's mark against its playbook.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from domain.actions import Verdict
from domain.durations import humanize
from domain.incident import Deadline, IncidentState, IncidentView, StatementStatus, StatementVersion
from domain.incident.state import ApprovalRound, ApproverTotals, Decided


class DeadlineResult(BaseModel):
    name: str
    label: str
    due_at: datetime
    met_at: datetime | None
    status: str = Field(description="met, missed, moot (no longer needed), waived (cancelled task) or open")
    margin: timedelta | None = Field(
        None, description="How early it was met (positive) or how late it was or still is (negative)."
    )

    @property
    def counted(self) -> bool:
        return self.status in ("met", "missed")


class ApproverWait(BaseModel):
    person: str
    decisions: int
    mean_wait: timedelta
    longest_wait: timedelta


class IncidentMetrics(BaseModel):
    time_to_detect: timedelta | None = None
    time_to_acknowledge: timedelta | None = None
    time_to_assessment: timedelta | None = None
    time_to_first_statement: timedelta | None = None
    time_to_resolve: timedelta | None = None
    acknowledged_by_role: dict[str, timedelta | None] = Field(default_factory=dict)
    approval_rounds: list[ApprovalRound] = Field(default_factory=list)
    rounds_not_listed: int = Field(0, description="A long incident's oldest approval rounds: counted, not listed.")
    approver_waits: list[ApproverWait] = Field(default_factory=list)
    highest_escalation_level: int = Field(0, description="1 = the first level of an escalation policy; 0 = nobody was paged.")
    escalation_by_role: dict[str, int] = Field(default_factory=dict)
    deadlines: list[DeadlineResult] = Field(default_factory=list)

    @property
    def met(self) -> int:
        return sum(d.status == "met" for d in self.deadlines)

    @property
    def missed(self) -> int:
        return sum(d.status == "missed" for d in self.deadlines)

    @property
    def score(self) -> float | None:
        """Share of counted deadlines met; None when no deadline was counted."""
        counted = self.met + self.missed
        return self.met / counted if counted else None

    def headline(self) -> dict[str, timedelta | None]:
        return {
            "time to detect": self.time_to_detect,
            "time to acknowledge": self.time_to_acknowledge,
            "time to assessment": self.time_to_assessment,
            "time to first statement": self.time_to_first_statement,
            "time to resolve": self.time_to_resolve,
        }


class MetricsSummary(BaseModel):
    """The headline figures flat, as the read model keeps them for reports across incidents."""

    incident_id: str
    playbook: str
    scenario: str
    severity: str
    drill: bool
    declared_at: datetime
    closed_at: datetime | None
    time_to_detect_s: float | None
    time_to_acknowledge_s: float | None
    time_to_assessment_s: float | None
    time_to_first_statement_s: float | None
    time_to_resolve_s: float | None
    deadlines_met: int
    deadlines_missed: int
    highest_escalation_level: int
    approval_rounds: int
    feedback_count: int
    feedback_mean: float | None
    projected_seq: int


def summarize(state: IncidentState, metrics: IncidentMetrics) -> MetricsSummary:
    def seconds(value: timedelta | None) -> float | None:
        return value.total_seconds() if value is not None else None

    ratings = [f.rating for f in state.feedback]
    return MetricsSummary(
        incident_id=state.id,
        playbook=state.playbook,
        scenario=state.scenario,
        severity=state.severity.value,
        drill=state.drill,
        declared_at=state.declared_at,
        closed_at=state.closed_at,
        time_to_detect_s=seconds(metrics.time_to_detect),
        time_to_acknowledge_s=seconds(metrics.time_to_acknowledge),
        time_to_assessment_s=seconds(metrics.time_to_assessment),
        time_to_first_statement_s=seconds(metrics.time_to_first_statement),
        time_to_resolve_s=seconds(metrics.time_to_resolve),
        deadlines_met=metrics.met,
        deadlines_missed=metrics.missed,
        highest_escalation_level=metrics.highest_escalation_level,
        approval_rounds=metrics.rounds_not_listed + len(metrics.approval_rounds),
        feedback_count=len(ratings),
        feedback_mean=sum(ratings) / len(ratings) if ratings else None,
        projected_seq=state.earlier.events + len(state.timeline),
    )


def state_from_view(view: IncidentView | dict[str, Any]) -> IncidentState:
    """The incident state back from its view (the ``state`` query's answer, or the workflow's
    result as JSON), which lists acknowledgements and deadlines instead of keying them."""
    view = IncidentView.model_validate(view)
    data = {
        name: getattr(view, name)
        for name in IncidentState.model_fields
        if name not in ("acknowledgements", "deadlines", "revision")
    }
    return IncidentState(
        **data,
        acknowledgements={ack.role: ack for ack in view.acknowledgements},
        deadlines={d.name: Deadline(**d.model_dump(exclude={"status"})) for d in view.deadlines},
    )


def compute(state: IncidentState, commander_role: str, now: datetime) -> IncidentMetrics:
    """The metrics of ``state``; ``now`` bounds what is still open (use the close time for a closed incident)."""
    start = state.declared_at
    end = state.closed_at or now
    by_role = {
        role: (ack.acknowledged_at - start if ack.acknowledged_at else None) for role, ack in state.acknowledgements.items()
    }
    published = [s.published_at for s in state.statements if s.published_at is not None]
    if state.earlier.first_published_at is not None:  # a long incident's earlier runs published first
        published.append(state.earlier.first_published_at)
    escalation = {role: max((page.level + 1 for page in ack.pages), default=0) for role, ack in state.acknowledgements.items()}
    return IncidentMetrics(
        time_to_detect=start - state.detected_at if state.detected_at else None,
        time_to_acknowledge=by_role.get(commander_role),
        time_to_assessment=state.assessed_at - start if state.assessed_at else None,
        time_to_first_statement=min(published) - start if published else None,
        time_to_resolve=state.resolution.at - start if state.resolution else None,
        acknowledged_by_role=by_role,
        approval_rounds=state.earlier.approval_rounds + approval_rounds(state.statements),
        rounds_not_listed=state.earlier.rounds_not_kept,
        approver_waits=_waits(state),
        highest_escalation_level=max(escalation.values(), default=0),
        escalation_by_role=escalation,
        deadlines=[_deadline(state, name, end) for name in state.deadlines],
    )


def _deadline(state: IncidentState, name: str, end: datetime) -> DeadlineResult:
    deadline = state.deadlines[name]
    resolved_at = state.resolution.at if state.resolution else None
    status = deadline.status(end, resolved_at, closed=state.closed_at is not None)
    if status == "overdue":  # still open past due: the report counts it as missed by the time passed
        status = "missed"
    result = DeadlineResult(name=name, label=deadline.label, due_at=deadline.due_at, met_at=deadline.met_at, status=status)
    if deadline.met_at is not None:
        result.margin = deadline.due_at - deadline.met_at
    elif status == "missed":
        result.margin = deadline.due_at - (deadline.stops_at(resolved_at) or end)
    return result


def approval_rounds(statements: list[StatementVersion]) -> list[ApprovalRound]:
    """Each statement version put to the approvers (not the fallback: the playbook approved it)."""
    rounds = []
    for statement in statements:
        if statement.fallback:
            continue
        decisions = [
            Decided(person=d.person, roles=d.roles, decision=d.decision.value, waited=d.at - statement.created_at)
            for d in statement.decisions
        ]
        settled = _settled_at(statement)
        rounds.append(
            ApprovalRound(
                version=statement.version,
                kind=statement.kind.value,
                outcome=statement.status.value,
                decisions=decisions,
                lasted=settled - statement.created_at if settled else None,
            )
        )
    return rounds


def _settled_at(statement: StatementVersion) -> datetime | None:
    """When the approvers' answer was complete: the rejection, or the approval that made it enough."""
    if statement.status is StatementStatus.REJECTED:
        return next(d.at for d in statement.decisions if d.decision is Verdict.REJECT)
    approvals = [d.at for d in statement.decisions if d.decision is Verdict.APPROVE]
    return max(approvals) if statement.sha256 and approvals else None


def approver_totals(statements: list[StatementVersion], earlier: Iterable[ApproverTotals] = ()) -> list[ApproverTotals]:
    """Each approver's decisions on ``statements`` summed, on top of ``earlier`` totals."""
    totals = {total.person: total.model_copy() for total in earlier}
    for statement in statements:
        for decision in statement.decisions:
            waited = decision.at - statement.created_at
            total = totals.setdefault(
                decision.person, ApproverTotals(person=decision.person, decisions=0, total_wait=timedelta(), longest_wait=waited)
            )
            total.decisions += 1
            total.total_wait += waited
            total.longest_wait = max(total.longest_wait, waited)
    return list(totals.values())


def _waits(state: IncidentState) -> list[ApproverWait]:
    return [
        ApproverWait(
            person=total.person,
            decisions=total.decisions,
            mean_wait=total.total_wait / total.decisions,
            longest_wait=total.longest_wait,
        )
        for total in approver_totals(state.statements, state.earlier.approver_waits)
    ]


def describe(value: timedelta | None) -> str:
    """``12 min 5 s``; ``—`` for a figure that does not exist (never acknowledged, nothing published)."""
    if value is None:
        return "—"
    sign = "-" if value < timedelta(0) else ""
    return sign + humanize(abs(value))


def margin_text(result: DeadlineResult) -> str:
    if result.margin is None:
        return ""
    if result.margin >= timedelta(0):
        return f"{describe(result.margin)} early"
    return f"{describe(-result.margin)} late"
