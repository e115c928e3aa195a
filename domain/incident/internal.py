"""Internal and partner messages: each internal audience of the playbook gets its own message,
drafted from its template when the communicate phase starts, approved like a statement, then
emailed to its roster groups."""

from datetime import datetime

from domain.actions import StatementDecision, StatementDraft
from domain.events import EventKind
from domain.incident.state import INTERNAL_MAX_LENGTH, InternalStatus, InternalVersion, Phase, Rejected, text_diff
from domain.incident.view import InternalApprovalItem, InternalDraftItem, PendingItem
from domain.messages import internal_mark
from domain.playbook import InternalAudience


class InternalMessages:
    def internal_history(self, audience: str) -> list[InternalVersion]:
        return [v for v in self.state.internal_messages if v.audience == audience]

    def internal_message(self, number: int) -> InternalVersion | None:
        return next((v for v in self.state.internal_messages if v.number == number), None)

    def audience(self, audience_id: str) -> InternalAudience | None:
        return next((a for a in self.playbook.internal if a.id == audience_id), None)

    def add_internal(self, audience_id: str, body: str, author: str, now: datetime, via: str | None = None) -> InternalVersion:
        """A new version for one audience (the template's draft, or the author's revision), opened
        with the internal mark in the incident's language; one still in approval is superseded."""
        audience = self.audience(audience_id)
        text = f"{internal_mark(self.plan.language, audience.name)}\n\n{body}"
        history = self.internal_history(audience_id)
        previous = history[-1] if history else None
        if previous is not None and previous.status is InternalStatus.PENDING_APPROVAL:
            previous.status = InternalStatus.SUPERSEDED
        number = len(self.state.internal_messages) + 1
        version = len(history) + 1
        diff = text_diff(previous.text, text, f"v{previous.version}", f"v{version}") if previous else ""
        message = InternalVersion(
            number=number,
            audience=audience_id,
            name=audience.name,
            version=version,
            text=text,
            author=author,
            created_at=now,
            diff=diff,
        )
        self.state.internal_messages.append(message)
        self._event(
            now,
            EventKind.INTERNAL_DRAFTED,
            author,
            f"Internal message for {audience.name} v{version} drafted by {author}",
            audience=audience_id,
            version=version,
            number=number,
            via=via,
        )
        return message

    def check_internal_draft(self, audience_id: str, action: StatementDraft) -> None:
        if len(action.text) > INTERNAL_MAX_LENGTH:
            raise Rejected(
                f"text: {len(action.text)} characters; an internal message takes at most {INTERNAL_MAX_LENGTH}", "invalid"
            )
        self._require_phase("revise internal messages", Phase.COMMUNICATE)
        self._require_role(action.person, [self.playbook.communicate.author, self.commander_role], "revise internal messages")
        if self.audience(audience_id) is None:
            known = ", ".join(a.id for a in self.playbook.internal) or "none"
            raise Rejected(f"audience: unknown internal audience '{audience_id}' (this playbook has: {known})", "invalid")
        history = self.internal_history(audience_id)
        if not history:
            raise Rejected(f"the message for '{audience_id}' is not drafted yet; revise it once its draft is there")
        if history[-1].status in (InternalStatus.APPROVED, InternalStatus.SENT):
            raise Rejected(
                f"the message for '{audience_id}' v{history[-1].version} is {history[-1].status.value}; nothing to revise"
            )

    def check_internal_decision(self, audience_id: str, version: int, action: StatementDecision) -> None:
        self._require_open()
        if self.audience(audience_id) is None:
            known = ", ".join(a.id for a in self.playbook.internal) or "none"
            raise Rejected(f"audience: unknown internal audience '{audience_id}' (this playbook has: {known})", "invalid")
        message = next((v for v in self.internal_history(audience_id) if v.version == version), None)
        if message is None:
            numbers = ", ".join(f"v{v.version}" for v in self.internal_history(audience_id)) or "none yet"
            raise Rejected(f"version: the message for '{audience_id}' has no version {version} (drafted: {numbers})", "invalid")
        self._require_role(action.person, self.playbook.communicate.approvers, "decide on internal messages")
        self._check_undecided(message, action.person, f"the message for '{audience_id}' v{version}")

    def decide_internal(self, audience_id: str, version: int, action: StatementDecision, now: datetime) -> InternalVersion:
        message = next(v for v in self.internal_history(audience_id) if v.version == version)
        label = f"internal message for {message.name} v{version}"
        if self._record_decision(
            message, action, now, "internal", f"the {label}", f"The {label}", audience=audience_id, version=version
        ):
            message.status = InternalStatus.APPROVED
            self._event(
                now,
                EventKind.INTERNAL_APPROVED,
                None,
                f"The {label} approved by {self.approval_rule()}",
                audience=audience_id,
                version=version,
            )
        return message

    def internal_to_send(self) -> list[InternalVersion]:
        return [v for v in self.state.internal_messages if v.status is InternalStatus.APPROVED]

    def mark_internal_sent(self, number: int, reached: int, now: datetime) -> None:
        message = self.internal_message(number)
        message.status = InternalStatus.SENT
        message.sent_at = now
        message.reached = reached
        self._event(
            now,
            EventKind.INTERNAL_SENT,
            None,
            f"Internal message for {message.name} v{message.version} sent: {reached} email(s)",
            audience=message.audience,
            version=message.version,
            reached=reached,
        )

    def withdraw_internal(self, now: datetime) -> None:
        """At close, a message never approved is not sent late."""
        for message in self.state.internal_messages:
            if message.status in (InternalStatus.PENDING_APPROVAL, InternalStatus.REJECTED):
                message.status = InternalStatus.WITHDRAWN
                self._event(
                    now,
                    EventKind.INTERNAL_WITHDRAWN,
                    None,
                    f"Internal message for {message.name} v{message.version} withdrawn: the incident closed before it was"
                    " approved",
                    audience=message.audience,
                    version=message.version,
                )

    def pending_internal(self) -> list[PendingItem]:
        items: list[PendingItem] = []
        if self.closed:
            return items
        authors = list(dict.fromkeys(self.members(self.playbook.communicate.author) + self.members(self.commander_role)))
        for audience in self.playbook.internal:
            history = self.internal_history(audience.id)
            latest = history[-1] if history else None
            if latest and latest.status is InternalStatus.PENDING_APPROVAL:
                for role, deciders in self.awaiting_decision(latest):
                    items.append(
                        InternalApprovalItem(
                            audience=audience.id,
                            version=latest.version,
                            number=latest.number,
                            role=role,
                            people=deciders,
                            title=f"Approve the internal message for {audience.name} v{latest.version} as {role}",
                        )
                    )
            elif latest and latest.status is InternalStatus.REJECTED:
                items.append(
                    InternalDraftItem(
                        audience=audience.id,
                        version=latest.version,
                        people=authors,
                        title=f"Revise the internal message for {audience.name} v{latest.version} (changes requested)",
                    )
                )
        return items
