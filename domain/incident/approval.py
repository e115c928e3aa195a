"""The playbook's approval rule, one for everything that needs approval before it goes out:
statements, the answers kit's proposals and internal messages. Each keeps its own status enum and
timeline words; who may still decide, what a decision counts for, the checks before one and how it
is recorded are written here once."""

from datetime import datetime, timedelta
from typing import Any

from domain.actions import StatementDecision, Verdict
from domain.events import EventKind
from domain.incident.state import AnswerVersion, Decision, InternalVersion, Rejected, StatementVersion

Approvable = StatementVersion | AnswerVersion | InternalVersion
PENDING_APPROVAL = "pending_approval"  # the status each kind's enum starts in (StrEnum: equal to its value)


class Approval:
    def approval_window(self) -> timedelta:
        """How long approvers get for a statement at the current severity (none in plans without one)."""
        window = self.playbook.communicate.approval_within
        return window.at(self.severity) if window is not None else timedelta(0)

    def outstanding_approver_roles(self, version: Approvable) -> list[str]:
        """Approver roles still asked to decide: under ``all`` those without an approval yet; under
        ``any: N`` every role with an undecided member, until N people have approved."""
        rule = self.playbook.communicate.approval
        approvals = [d for d in version.decisions if d.decision is Verdict.APPROVE]
        if rule == "all":
            approved = {role for d in approvals for role in d.roles}
            return [role for role in self.playbook.communicate.approvers if role not in approved]
        if len(approvals) >= rule.any:
            return []
        decided = {d.person for d in version.decisions}
        return [r for r in self.playbook.communicate.approvers if any(p not in decided for p in self.members(r))]

    def approval_rule(self) -> str:
        rule = self.playbook.communicate.approval
        return "every approver role" if rule == "all" else f"{rule.any} approver(s)"

    def _deciding_roles(self, version: Approvable, person: str) -> list[str]:
        """The approver roles a person's decision counts for."""
        roles = [role for role in self.outstanding_approver_roles(version) if person in self.members(role)]
        if not roles:  # under ``any: N`` a person counts once, for the approver roles they hold
            roles = [r for r in self.playbook.communicate.approvers if person in self.members(r)]
        return roles

    def record_approval_escalated(self, version: int, role: str, previous: str, person: str, now: datetime) -> None:
        self._event(
            now,
            EventKind.APPROVAL_ESCALATED,
            None,
            f"v{version} still awaits {role}: asked {person} because {previous} did not decide in time",
            version=version,
            role=role,
            person=person,
        )

    def awaiting_decision(self, version: Approvable) -> list[tuple[str, list[str]]]:
        """Each approver role still asked to decide, with its members who have not decided yet."""
        decided = {d.person for d in version.decisions}
        return [(role, [p for p in self.members(role) if p not in decided]) for role in self.outstanding_approver_roles(version)]

    def _check_undecided(self, version: Approvable, person: str, label: str, short: str | None = None) -> None:
        """What every decision needs once the version exists and the person holds an approver role:
        the version still awaits approval, the person has not decided on it, and a role they hold still
        counts. ``label`` names the version ("answer 'x' v2"), ``short`` where the words are shorter."""
        short = short or label
        if version.status != PENDING_APPROVAL:
            raise Rejected(f"{label} is {version.status.value.replace('_', ' ')}; nothing to decide")
        if any(d.person == person for d in version.decisions):
            raise Rejected(f"'{person}' has already decided on {short}")
        if not any(person in self.members(role) for role in self.outstanding_approver_roles(version)):
            raise Rejected(f"{short} already has the approvals of every role '{person}' holds")

    def _record_decision(
        self, item: Approvable, action: StatementDecision, now: datetime, kind: str, label: str, subject: str, /, **data: Any
    ) -> bool:
        """Record a person's decision and its timeline event (``<kind>_rejected`` or ``<kind>_approved_by``);
        a request for changes sets the item's status to rejected. True when this decision met the
        approval rule: the caller then approves the item its own way. ``label`` names the item
        inside a sentence, ``subject`` at its start."""
        roles = self._deciding_roles(item, action.person)
        item.decisions.append(
            Decision(person=action.person, roles=roles, decision=action.decision, comment=action.comment, at=now)
        )
        if action.decision is Verdict.REJECT:
            item.status = type(item.status).REJECTED  # each kind's status enum names the same approval states
            comment = f": {action.comment}" if action.comment else ""
            self._event(
                now,
                EventKind(f"{kind}_rejected"),
                action.person,
                f"Changes requested on {label} by {action.person}{comment}",
                via=action.via,
                **data,
            )
            return False
        self._event(
            now,
            EventKind(f"{kind}_approved_by"),
            action.person,
            f"{subject} approved by {action.person} ({', '.join(roles)})",
            via=action.via,
            **data,
            roles=roles,
        )
        return not self.outstanding_approver_roles(item)
