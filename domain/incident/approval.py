"""The playbook's approval rule, one for everything that needs approval before it goes out:
statements, the answers kit's proposals and internal messages."""

from datetime import datetime, timedelta

from domain.actions import Verdict
from domain.incident.state import AnswerVersion, StatementVersion


class Approval:
    def approval_window(self) -> timedelta:
        """How long approvers get for a statement at the current severity (none in plans without one)."""
        window = self.playbook.communicate.approval_within
        return window.at(self.severity) if window is not None else timedelta(0)

    def outstanding_approver_roles(self, version: StatementVersion) -> list[str]:
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

    def _deciding_roles(self, version: "StatementVersion | AnswerVersion", person: str) -> list[str]:
        """The approver roles a person's decision counts for."""
        roles = [role for role in self.outstanding_approver_roles(version) if person in self.members(role)]
        if not roles:  # under ``any: N`` a person counts once, for the approver roles they hold
            roles = [r for r in self.playbook.communicate.approvers if person in self.members(r)]
        return roles

    def record_approval_escalated(self, version: int, role: str, previous: str, person: str, now: datetime) -> None:
        self._event(now, "approval_escalated", None, f"v{version} still awaits {role}: asked {person} because {previous} did not decide in time", version=version, role=role, person=person)
