"""The answers kit: the team's replies to the public, pinned from the playbook and adapted per
incident through the statements' approval rule; never published by crisisflow."""

from datetime import datetime

from domain.actions import AnswerDraft, StatementDecision, Verdict
from domain.answers import ANSWER_ID, ANSWER_MAX_LENGTH, PinnedAnswer
from domain.events import EventKind
from domain.factsheet import FactSheet
from domain.incident.state import ACTIVE_PHASES, AnswerStatus, AnswerVersion, Rejected, TaskStatus, text_diff
from domain.incident.view import AnswerApprovalItem, AnswerDraftItem, AnswerHold, AnswerSource, KitAnswer, PendingItem


class Answers:
    def _pinned_answer(self, answer_id: str) -> PinnedAnswer | None:
        return next((a for a in self.plan.answers if a.id == answer_id), None)

    def answer_history(self, answer_id: str) -> list[AnswerVersion]:
        return [v for v in self.state.answer_versions if v.answer_id == answer_id]

    def answer_version(self, answer_id: str, version: int) -> AnswerVersion | None:
        return next((v for v in self.answer_history(answer_id) if v.version == version), None)

    def answer_proposal(self, number: int) -> AnswerVersion | None:
        return next((v for v in self.state.answer_versions if v.number == number), None)

    def answer_ids(self) -> list[str]:
        """The kit's answers in its order, then the ones added during the incident."""
        return list(dict.fromkeys([a.id for a in self.plan.answers] + [v.answer_id for v in self.state.answer_versions]))

    def answer_in_use(self, answer_id: str) -> AnswerVersion | PinnedAnswer | None:
        """The approved per-incident version, else the kit's own; None for an answer never approved."""
        approved = next((v for v in self.answer_history(answer_id) if v.status is AnswerStatus.APPROVED), None)
        return approved or self._pinned_answer(answer_id)

    def answer_hold(self, answer_id: str) -> AnswerHold | None:
        """Why a kit answer is held, or None once it is released (or asserts nothing to wait for).
        An answer bound to a task asserts what that task establishes ("refunded automatically"
        waits for the charges check): until the task is done, nobody uses it or adapts it."""
        pinned = self._pinned_answer(answer_id)
        if pinned is None or pinned.released_by is None:
            return None
        if (fact := pinned.released_by.fact) is not None:
            if getattr(self.state.fact_sheet, fact):
                return None
            why = f"it asserts what the public fact sheet's '{fact}' states; it is released when that field is filled in"
            return AnswerHold(fact=fact, title=f"fact sheet: {fact}", status="empty", why=why)
        task_id = pinned.released_by.task
        task = next((t for t in self.state.tasks if t.id == task_id), None)
        if task is not None and task.status is TaskStatus.DONE:
            return None
        spec = next((t for t in self.playbook.respond.tasks if t.id == task_id), None)
        title = spec.title if spec else task_id
        status = task.status.value if task else "not started"
        why = f"it asserts what the task '{title}' establishes; it is released when that task is done"
        if task is not None and task.status is TaskStatus.CANCELLED:
            why = f"it asserts what the task '{title}' would have established, and that task was cancelled"
        return AnswerHold(task=task_id, title=title, status=status, why=why)

    def _require_released(self, answer_id: str, doing: str) -> None:
        if hold := self.answer_hold(answer_id):
            where = f"task '{hold.task}'" if hold.task else f"fact sheet field '{hold.fact}'"
            raise Rejected(f"answer '{answer_id}' is held: {hold.why} ({where} is {hold.status}); {doing} it then")

    def _release_answers(self, task_id: str, now: datetime) -> None:
        for pinned in self.plan.answers:
            if pinned.released_by is not None and pinned.released_by.task == task_id:
                title = self.task(task_id).title
                self._event(
                    now,
                    EventKind.ANSWER_RELEASED,
                    None,
                    f"Answer '{pinned.id}' released: the task '{title}' that establishes it is done",
                    answer_id=pinned.id,
                    task_id=task_id,
                )

    def _release_answers_stated(self, before: FactSheet, now: datetime) -> None:
        """Answers bound to a fact sheet field that this edit filled in (a field cleared holds them again)."""
        for pinned in self.plan.answers:
            fact = pinned.released_by.fact if pinned.released_by else None
            if fact and not getattr(before, fact) and getattr(self.state.fact_sheet, fact):
                self._event(
                    now,
                    EventKind.ANSWER_RELEASED,
                    None,
                    f"Answer '{pinned.id}' released: the public fact sheet now states its '{fact}'",
                    answer_id=pinned.id,
                    fact=fact,
                )

    def answer_max_length(self) -> int:
        limit = self.playbook.communicate.max_length
        return min(limit, ANSWER_MAX_LENGTH) if limit is not None else ANSWER_MAX_LENGTH

    def answers_kit(self) -> list[KitAnswer]:
        """Every answer as the people replying should use it now, with the proposal in approval if any."""
        kit = []
        for answer_id in self.answer_ids():
            in_use = self.answer_in_use(answer_id)
            history = self.answer_history(answer_id)
            latest = history[-1] if history else None
            proposal = latest if latest and latest.status in (AnswerStatus.PENDING_APPROVAL, AnswerStatus.REJECTED) else None
            if hold := self.answer_hold(answer_id):
                entry = KitAnswer(
                    id=answer_id,
                    question=in_use.question,
                    text=None,
                    version=1,
                    source=AnswerSource.PLAYBOOK,
                    released=False,
                    waiting_for=hold,
                    held_text=in_use.text,
                    proposal=proposal,
                )
            elif isinstance(in_use, AnswerVersion):
                approvals = [d.person for d in in_use.decisions if d.decision is Verdict.APPROVE]
                entry = KitAnswer(
                    id=answer_id,
                    question=in_use.question,
                    text=in_use.text,
                    version=in_use.version,
                    source=AnswerSource.INCIDENT,
                    approved_by=approvals,
                    proposal=proposal,
                )
            elif in_use is not None:
                entry = KitAnswer(
                    id=answer_id,
                    question=in_use.question,
                    text=in_use.text,
                    version=1,
                    source=AnswerSource.PLAYBOOK,
                    proposal=proposal,
                )
            else:
                entry = KitAnswer(
                    id=answer_id,
                    question=latest.question,
                    text=None,
                    version=None,
                    source=AnswerSource.PROPOSED,
                    proposal=proposal,
                )
            kit.append(entry)
        return kit

    def check_answer_proposal(self, answer_id: str, action: AnswerDraft) -> None:
        limit = self.answer_max_length()
        if len(action.text) > limit:
            raise Rejected(f"text: {len(action.text)} characters; an answer in the kit takes at most {limit}", "invalid")
        self._require_phase("propose answers", *ACTIVE_PHASES)
        self._require_role(action.person, [self.playbook.communicate.author, self.commander_role], "propose answers")
        if not ANSWER_ID.match(answer_id) or len(answer_id) > 100:
            raise Rejected(f"answer_id: '{answer_id}' must be lowercase letters, digits and _ (at most 100)", "invalid")
        if answer_id not in self.answer_ids() and action.question is None:
            known = ", ".join(self.answer_ids()) or "no answers yet"
            raise Rejected(
                f"answer_id: unknown answer '{answer_id}' (this incident's kit has: {known}); give a question to add it",
                "invalid",
            )
        self._require_released(answer_id, "adapt")
        in_use = self.answer_in_use(answer_id)
        if in_use is not None and action.text == in_use.text and action.question in (None, in_use.question):
            raise Rejected(f"text: the same as answer '{answer_id}' in use; nothing to approve", "invalid")

    def propose_answer(self, answer_id: str, action: AnswerDraft, now: datetime) -> AnswerVersion:
        history = self.answer_history(answer_id)
        pinned = self._pinned_answer(answer_id)
        previous = history[-1] if history else pinned
        if history and history[-1].status is AnswerStatus.PENDING_APPROVAL:
            history[-1].status = AnswerStatus.SUPERSEDED
        number = len(self.state.answer_versions) + 1
        version = len(history) + (2 if pinned else 1)
        question = action.question or (self.answer_in_use(answer_id) or previous).question
        diff = text_diff(previous.text, action.text, f"v{version - 1}", f"v{version}") if previous else ""
        proposal = AnswerVersion(
            number=number,
            answer_id=answer_id,
            version=version,
            question=question,
            text=action.text,
            author=action.person,
            created_at=now,
            diff=diff,
        )
        self.state.answer_versions.append(proposal)
        added = "" if pinned or history else " (a new answer)"
        self._event(
            now,
            EventKind.ANSWER_PROPOSED,
            action.person,
            f"Answer '{answer_id}' v{version} proposed by {action.person}{added}",
            answer_id=answer_id,
            version=version,
            number=number,
            via=action.via,
        )
        return proposal

    def check_answer_decision(self, answer_id: str, version: int, action: StatementDecision) -> None:
        self._require_open()
        if answer_id not in self.answer_ids():
            known = ", ".join(self.answer_ids()) or "no answers"
            raise Rejected(f"answer_id: unknown answer '{answer_id}' (this incident's kit has: {known})", "invalid")
        proposal = self.answer_version(answer_id, version)
        if proposal is None:
            if version == 1 and self._pinned_answer(answer_id):
                raise Rejected(f"answer '{answer_id}' v1 is the playbook's pre-approved answer; nothing to decide")
            numbers = ", ".join(f"v{v.version}" for v in self.answer_history(answer_id)) or "none yet"
            raise Rejected(f"version: answer '{answer_id}' has no version {version} (proposed: {numbers})", "invalid")
        self._require_role(action.person, self.playbook.communicate.approvers, "decide on answers")
        self._require_released(answer_id, "approve")
        self._check_undecided(proposal, action.person, f"answer '{answer_id}' v{version}")

    def decide_answer(self, answer_id: str, version: int, action: StatementDecision, now: datetime) -> AnswerVersion:
        proposal = self.answer_version(answer_id, version)
        label = f"answer '{answer_id}' v{version}"
        if self._record_decision(
            proposal, action, now, "answer", label, f"{label[0].upper()}{label[1:]}", answer_id=answer_id, version=version
        ):
            replaced = self.answer_in_use(answer_id)
            if isinstance(replaced, AnswerVersion):
                replaced.status = AnswerStatus.SUPERSEDED
            proposal.status = AnswerStatus.APPROVED
            proposal.approved_at = now
            was = (
                f"v{replaced.version}"
                if isinstance(replaced, AnswerVersion)
                else ("the playbook's v1" if replaced else "nothing")
            )
            self._event(
                now,
                EventKind.ANSWER_APPROVED,
                None,
                f"Answer '{answer_id}' v{version} approved by {self.approval_rule()}; it replaces {was} for this incident",
                answer_id=answer_id,
                version=version,
            )
        return proposal

    def pending_answers(self) -> list[PendingItem]:
        """Answer proposals waiting on approvers, and rejected ones waiting on a revision."""
        items: list[PendingItem] = []
        if self.closed:
            return items
        authors = list(dict.fromkeys(self.members(self.playbook.communicate.author) + self.members(self.commander_role)))
        for answer_id in self.answer_ids():
            history = self.answer_history(answer_id)
            latest = history[-1] if history else None
            if latest and latest.status is AnswerStatus.PENDING_APPROVAL:
                for role, deciders in self.awaiting_decision(latest):
                    items.append(
                        AnswerApprovalItem(
                            answer_id=answer_id,
                            version=latest.version,
                            number=latest.number,
                            role=role,
                            people=deciders,
                            title=f"Approve answer '{answer_id}' v{latest.version} as {role}",
                        )
                    )
            elif latest and latest.status is AnswerStatus.REJECTED and self.phase in ACTIVE_PHASES:
                items.append(
                    AnswerDraftItem(
                        answer_id=answer_id,
                        version=latest.version,
                        people=authors,
                        title=f"Revise answer '{answer_id}' v{latest.version} (changes requested)",
                    )
                )
        return items
