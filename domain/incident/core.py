"""What every part of an incident's rules stands on: the plan, the state, who holds which role,
the guards the Update validators share, deadlines and the timeline.

The classes of the package's other modules (``Paging``, ``Tasks``, ``Statements``…) are mixins over
:class:`IncidentCore`: they read ``plan``, ``playbook``, ``org`` and ``state``, check with the
``_require_*`` guards and change the state only through their own methods, each ending in
``_event`` (which bumps ``revision``, what the workflow waits on)."""

from datetime import datetime
from typing import Any, Self

from domain.events import EventKind
from domain.incident.state import Deadline, IncidentPlan, IncidentState, Phase, Rejected, RoleAcknowledgement, TimelineEvent
from domain.severity import Severity


class IncidentCore:
    def __init__(self, plan: IncidentPlan, now: datetime, public_voice: bool = True):
        """``public_voice``: statements are channel variants checked against their limits, and an
        update that says nothing new is flagged (False only when replaying histories from before)."""
        self.public_voice = public_voice
        self.plan = plan
        self.playbook = plan.playbook
        self.org = plan.org
        self.state = IncidentState(
            id=plan.id,
            title=plan.title,
            summary=plan.summary,
            playbook=plan.playbook.id,
            scenario=plan.playbook.scenario.value,
            severity=plan.severity,
            language=plan.language,
            drill=plan.drill,
            declared_at=now,
            detected_at=plan.detected_at,
            participants=plan.participants,
            acknowledgements={role: RoleAcknowledgement(role=role) for role in plan.playbook.identify.page},
            detection=plan.detection,
        )
        for role in plan.playbook.identify.page:
            within = plan.playbook.identify.acknowledge_within.at(plan.severity)
            self._deadline(f"acknowledge.{role}", f"{role} acknowledges", now + within)
        self._set_first_statement_deadline()
        for obligation in plan.playbook.obligations:
            self._deadline(f"obligation.{obligation.id}", obligation.label, now + obligation.within)
        drill = " (drill)" if plan.drill else ""
        self._event(
            now,
            EventKind.DECLARED,
            plan.declared_by,
            f"Incident declared{drill}: {plan.title} — {plan.severity}, playbook {plan.playbook.name}",
            via=plan.declared_via,
            severity=plan.severity.value,
            playbook=plan.playbook.id,
        )
        if plan.fact_sheet is not None:
            self._edit_fact_sheet(plan.fact_sheet, plan.declared_by or "declaration", now, via=plan.declared_via)

    @classmethod
    def resumed(cls, plan: IncidentPlan, state: IncidentState, public_voice: bool) -> Self:
        """The incident as an earlier workflow run left it (continue-as-new): nothing is declared again."""
        incident = cls.__new__(cls)
        incident.public_voice = public_voice
        incident.plan = plan
        incident.playbook = plan.playbook
        incident.org = plan.org
        incident.state = state
        return incident

    @property
    def phase(self) -> Phase:
        return self.state.phase

    @property
    def severity(self) -> Severity:
        return self.state.severity

    @property
    def commander_role(self) -> str:
        return self.playbook.identify.commander

    def members(self, role: str) -> list[str]:
        return self.org.members(role)

    def on_duty(self, role: str) -> str:
        """Who holds a role for this incident: whoever acknowledged its page, else the first in order."""
        ack = self.state.acknowledgements.get(role)
        if ack and ack.acknowledged_by:
            return ack.acknowledged_by
        return self.members(role)[0]

    @property
    def commander(self) -> str:
        return self.on_duty(self.commander_role)

    @property
    def resolved(self) -> bool:
        return self.state.resolution is not None

    @property
    def closed(self) -> bool:
        return self.state.phase is Phase.CLOSED

    @property
    def event_count(self) -> int:
        """Every timeline event so far, including those earlier runs dropped (the last one's seq)."""
        return self.state.earlier.events + len(self.state.timeline)

    @property
    def statement_count(self) -> int:
        """Every statement version so far, including those earlier runs dropped (the last one's number)."""
        return self.state.earlier.statements + len(self.state.statements)

    def event(self, seq: int) -> TimelineEvent:
        return self.state.timeline[seq - 1 - self.state.earlier.events]

    def _require_open(self) -> None:
        if self.closed:
            raise Rejected("the incident is closed")

    def _require_person(self, person: str) -> None:
        if person not in self.org.people:
            raise Rejected(f"person: '{person}' is not in the team roster", "invalid")

    def _require_role(self, person: str, roles: list[str], doing: str) -> None:
        self._require_person(person)
        if not any(person in self.members(role) for role in roles):
            raise Rejected(f"person: '{person}' cannot {doing}; that needs the role {' or '.join(roles)}", "invalid")

    def _require_phase(self, doing: str, *phases: Phase) -> None:
        self._require_open()
        if self.phase not in phases:
            allowed = " or ".join(p.value for p in phases)
            raise Rejected(f"cannot {doing} in the {self.phase.value} phase (only in {allowed})")

    def _deadline(self, name: str, label: str, due_at: datetime) -> None:
        self.state.deadlines[name] = Deadline(name=name, label=label, due_at=due_at)

    def _meet(self, name: str, now: datetime) -> None:
        deadline = self.state.deadlines.get(name)
        if deadline and deadline.met_at is None:
            deadline.met_at = now

    def _event(
        self, now: datetime, kind: EventKind, actor: str | None, message: str, via: str | None = None, **data: Any
    ) -> None:
        self.state.timeline.append(
            TimelineEvent(seq=self.event_count + 1, at=now, kind=kind, actor=actor, via=via, message=message, data=data)
        )
        self.state.revision += 1

    def record_deadline_missed(self, name: str, now: datetime) -> None:
        deadline = self.state.deadlines[name]
        self._event(
            now,
            EventKind.DEADLINE_MISSED,
            None,
            f"Deadline missed: {deadline.label} (due {deadline.due_at:%H:%M:%S} UTC)",
            deadline=name,
        )

    def record_data_error(self, what: str, reason: str, now: datetime) -> None:
        """The database refused data of this incident for ``what``: not retried (it would be refused
        again), shown here and counted by ``/readyz``."""
        self._event(
            now,
            EventKind.DATA_ERROR,
            None,
            f"The database refused this incident's data for {what} ({reason}); not retried: check its texts",
            what=what,
            reason=reason,
        )
