"""An incident's state and the rules for changing it.

Plain Python with no Temporal import: the workflow owns one :class:`Incident`, calls the
``check_*`` methods from its Update validators (a :class:`Rejected` there writes nothing to
history) and the matching methods from the handlers and timers. Every change appends a timeline
event and bumps ``revision``, which is what the workflow waits on.
"""

import difflib
import hashlib
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from domain.actions import (
    Acknowledge,
    AnswerDraft,
    Assessment,
    FactSheetEdit,
    FeedbackSubmission,
    Reassessment,
    Resolution,
    ReviewSubmission,
    StatementDecision,
    StatementDraft,
    TaskCompletion,
    Verdict,
)
from domain.answers import ANSWER_ID, ANSWER_MAX_LENGTH, PinnedAnswer

INTERNAL_MAX_LENGTH = 5000  # an email to staff or partners
from domain.durations import humanize
from domain.factsheet import FactSheet, FactSheetFields, FactSheetVersion
from domain.lenient import LenientInput
from domain.listening import DetectionOrigin
from domain.messages import internal_mark
from domain.playbook import STATUS_PAGE_NAME, STATUS_PAGE_NAMES, InternalAudience, Obligation, Playbook
from domain.roster import OrgChart
from domain.severity import Severity, severity_from_matrix
from domain.statements import StatementKind
from domain.variants import Form as VariantForm
from domain.variants import Variant, build_variants, describe, find, set_sha256, variant_sha256
from domain.variants import problems as variant_problems

SYSTEM_AUTHOR = "crisisflow"  # the author of the statements drafted from the template


class Phase(StrEnum):
    IDENTIFY = "identify"
    ASSESS = "assess"
    RESPOND = "respond"
    COMMUNICATE = "communicate"
    REVIEW = "review"
    CLOSED = "closed"


ACTIVE_PHASES = (Phase.ASSESS, Phase.RESPOND, Phase.COMMUNICATE)


class Rejected(Exception):
    """An action that does not fit the incident now. ``conflict``: right request, wrong moment
    (HTTP 409); ``invalid``: the request names something that does not exist or is not allowed
    for this person (HTTP 422)."""

    def __init__(self, message: str, kind: str = "conflict"):
        super().__init__(message)
        self.message = message
        self.kind = kind


class IncidentPlan(LenientInput):
    """The workflow input: the declaration plus the plan pinned at that moment. Decoded from the
    history on every replay, so the authoring models inside it drop fields a later schema removed
    (:mod:`domain.lenient`)."""

    id: str
    title: str
    summary: str
    severity: Severity
    language: str
    drill: bool = False
    declared_by: str | None = None
    detected_at: datetime | None = Field(None, description="The first related mention, when a detection led to the declaration.")
    participants: list[str] = Field(default_factory=list, description="A drill's named participants (the org chart holds only them); empty: the whole team.")
    declared_via: str | None = None
    playbook: Playbook
    org: OrgChart
    template: str = Field(description="Statement template source in the incident's language.")
    answers: list[PinnedAnswer] = Field(default_factory=list, description="The playbook's answers kit in the incident's language.")
    detection: DetectionOrigin | None = Field(None, description="Set when the incident was opened from a mention surge.")
    fact_sheet: FactSheetFields | None = Field(None, description="The public fact sheet given at declaration (a public headline, say).")
    internal_templates: dict[str, str] = Field(default_factory=dict, description="Each internal audience's template source in the incident's language, by audience id.")


class Page(BaseModel):
    person: str
    level: int
    round: int
    at: datetime


class RoleAcknowledgement(BaseModel):
    role: str
    pages: list[Page] = Field(default_factory=list)
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    exhausted: bool = False


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class TaskState(BaseModel):
    id: str
    title: str
    owner: str
    assignee: str
    due_at: datetime
    status: TaskStatus = TaskStatus.OPEN
    done_by: str | None = None
    done_at: datetime | None = None
    note: str | None = None
    reminded: bool = False
    escalations: int = 0


class StatementStatus(StrEnum):
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"
    PUBLISHED = "published"


class Decision(BaseModel):
    person: str
    roles: list[str]
    decision: Verdict
    comment: str | None = None
    at: datetime


class Receipt(BaseModel):
    """What one channel took: the hash of the text actually sent, and the provider's id."""

    channel: str
    sha256: str
    provider_id: str | None = None
    url: str | None = Field(None, description="Where the public reads the post (social networks, the status page).")
    error: str | None = Field(None, description="Why this target did not take the statement.")
    variant: str | None = Field(None, description="The channel whose variant this target published.")


class StatementVersion(BaseModel):
    version: int
    kind: StatementKind
    text: str
    author: str
    created_at: datetime
    status: StatementStatus = StatementStatus.PENDING_APPROVAL
    decisions: list[Decision] = Field(default_factory=list)
    published_at: datetime | None = None
    diff: str = Field("", description="Unified diff from the previous version's text.")
    sha256: str | None = Field(None, description="Frozen at approval: what was approved is what must go out.")
    fallback: bool = Field(False, description="The playbook's pre-approved holding statement, published when approvals did not arrive in time.")
    promise: datetime | None = Field(None, description="The next update this text promises the public; once published, the next update is due then.")
    receipts: list[Receipt] = Field(default_factory=list)
    mismatch: bool = Field(False, description="A channel received text whose hash differs from the approved one.")
    variants: list[Variant] = Field(
        default_factory=list, description="The statement for each channel, measured against its limit; approval covers the whole set."
    )
    fact_sheet_version: int | None = Field(None, description="The public fact sheet's version when this statement was drafted (0: empty).")
    changed: list[str] = Field(default_factory=list, description="Fact sheet fields changed since the last published statement.")
    repeats: int | None = Field(None, description="The published version this one says nothing new against (flagged before approval).")
    repeats_why: str | None = Field(None, description="Why it says nothing new: the same text, or a fact sheet unchanged since.")

    def for_approval(self) -> str:
        """What an approver reads: every distinct text of the set with its channels and counts."""
        body = describe(self.variants) if self.variants else self.text
        if self.repeats is not None:
            return f"NOTE: nothing new since v{self.repeats} (published): {self.repeats_why}.\n\n{body}"
        return body


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def text_diff(previous: str, current: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(previous.splitlines(), current.splitlines(), before, after, lineterm="")
    return "\n".join(lines)


def _page_place(role: str, level: int, round_: int) -> str:
    """Where a page stands in its role's escalation, as the timeline says it: "(legal, level 2, round 2)"."""
    again = f", round {round_ + 1}" if round_ else ""
    return f"({role}, level {level + 1}{again})"


class AnswerStatus(StrEnum):
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"


class AnswerVersion(BaseModel):
    """A per-incident version of one answer of the kit (the kit's own text is version 1)."""

    number: int = Field(description="Incident-wide proposal number: what an emailed approval link names.")
    answer_id: str
    version: int
    question: str
    text: str
    author: str
    created_at: datetime
    status: AnswerStatus = AnswerStatus.PENDING_APPROVAL
    decisions: list[Decision] = Field(default_factory=list)
    diff: str = Field("", description="Unified diff from the previous version's text.")
    approved_at: datetime | None = None


class InternalStatus(StrEnum):
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"
    SENT = "sent"
    WITHDRAWN = "withdrawn"


class InternalVersion(BaseModel):
    """One version of the message to an internal audience (all staff, store staff, partners):
    approved under the statements' rule, then emailed to the audience's roster groups. Its text
    opens with the internal mark, so nobody mistakes it for public text."""

    number: int = Field(description="Incident-wide number: what an emailed approval link names.")
    audience: str
    name: str
    version: int
    text: str
    author: str
    created_at: datetime
    status: InternalStatus = InternalStatus.PENDING_APPROVAL
    decisions: list[Decision] = Field(default_factory=list)
    diff: str = ""
    sent_at: datetime | None = None
    reached: int | None = Field(None, description="How many addresses the email reached.")


class Deadline(BaseModel):
    name: str
    label: str
    due_at: datetime
    met_at: datetime | None = None
    waived: bool = False

    def stops_at(self, resolved_at: datetime | None) -> datetime | None:
        """When an unmet deadline stopped mattering: at the resolution, except the review's, which follows it."""
        return resolved_at if self.name != "review" else None

    def status(self, now: datetime, resolved_at: datetime | None = None, closed: bool = False) -> str:
        """``met`` or ``missed``; ``waived`` (a cancelled task); ``moot`` when it stopped mattering
        before it fell due (the incident was resolved, or closed, first); ``overdue`` while it is
        still open past due; else ``open``. The API and the report read deadlines by this one rule."""
        if self.waived:
            return "waived"
        if self.met_at is not None:
            return "met" if self.met_at <= self.due_at else "missed"
        stopped = self.stops_at(resolved_at)
        if stopped is not None and stopped <= self.due_at:
            return "moot"
        if (stopped or now) > self.due_at:
            return "missed" if stopped or closed else "overdue"
        return "moot" if closed else "open"


class TimelineEvent(BaseModel):
    seq: int
    at: datetime
    kind: str
    actor: str | None = None
    via: str | None = None
    message: str
    data: dict[str, Any] = Field(default_factory=dict)


class ResolutionRecord(BaseModel):
    person: str
    summary: str
    at: datetime


class FeedbackRecord(BaseModel):
    person: str
    rating: int
    went_well: str | None = None
    went_badly: str | None = None
    at: datetime


class IncidentState(BaseModel):
    id: str
    title: str
    summary: str
    playbook: str
    scenario: str
    severity: Severity
    language: str
    drill: bool
    declared_at: datetime
    detected_at: datetime | None = None
    participants: list[str] = Field(default_factory=list)
    phase: Phase = Phase.IDENTIFY
    acknowledgements: dict[str, RoleAcknowledgement] = Field(default_factory=dict)
    assessment: Assessment | None = None
    assessed_at: datetime | None = None
    tasks: list[TaskState] = Field(default_factory=list)
    statements: list[StatementVersion] = Field(default_factory=list)
    resolution: ResolutionRecord | None = None
    review: ReviewSubmission | None = None
    feedback_requested: list[str] = Field(default_factory=list, description="Everyone asked for feedback by link during the review.")
    feedback: list[FeedbackRecord] = Field(default_factory=list)
    closed_at: datetime | None = None
    deadlines: dict[str, Deadline] = Field(default_factory=dict)
    next_update_due: datetime | None = None
    holding_started_at: datetime | None = Field(
        None, description="When the holding statement went to approval at the playbook's holding point, before the assessment and checklist were done."
    )
    answer_versions: list[AnswerVersion] = Field(default_factory=list)
    timeline: list[TimelineEvent] = Field(default_factory=list)
    revision: int = 0
    detection: DetectionOrigin | None = None
    fact_sheet: FactSheet = Field(default_factory=FactSheet, description="What the public may read: the only input of statement templates.")
    fact_sheet_versions: list[FactSheetVersion] = Field(default_factory=list)
    internal_messages: list[InternalVersion] = Field(default_factory=list, description="Messages to the playbook's internal audiences (staff, partners), every version.")


class Incident:
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
            "declared",
            plan.declared_by,
            f"Incident declared{drill}: {plan.title} — {plan.severity}, playbook {plan.playbook.name}",
            via=plan.declared_via,
            severity=plan.severity.value,
            playbook=plan.playbook.id,
        )
        if plan.fact_sheet is not None:
            self._edit_fact_sheet(plan.fact_sheet, plan.declared_by or "declaration", now, via=plan.declared_via)

    # ---- reading -------------------------------------------------------------------------

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

    def is_acknowledged(self, role: str) -> bool:
        return self.state.acknowledgements[role].acknowledged_by is not None

    @property
    def commander(self) -> str:
        return self.on_duty(self.commander_role)

    @property
    def resolved(self) -> bool:
        return self.state.resolution is not None

    @property
    def closed(self) -> bool:
        return self.state.phase is Phase.CLOSED

    def task(self, task_id: str) -> TaskState:
        return next(t for t in self.state.tasks if t.id == task_id)

    def open_tasks(self) -> list[TaskState]:
        return [t for t in self.state.tasks if t.status is TaskStatus.OPEN]

    def ready_to_communicate(self) -> bool:
        """Every task the playbook wants done before the first statement is done."""
        before = {t.id for t in self.playbook.respond.tasks if t.before_statement}
        return not any(t.id in before for t in self.open_tasks())

    def holding_at(self) -> datetime | None:
        """When the holding statement goes to approval whatever the assessment and checklist
        (the playbook's holding point at the current severity), or None when the plan sets none."""
        point = self.playbook.holding_point(self.severity)
        return None if point is None else self.state.declared_at + point

    def approval_window(self) -> timedelta:
        """How long approvers get for a statement at the current severity (none in plans without one)."""
        window = self.playbook.communicate.approval_within
        return window.at(self.severity) if window is not None else timedelta(0)

    def statements_open(self) -> bool:
        """Statements are drafted and decided: in the communicate phase, and from the holding point on."""
        if self.phase is Phase.COMMUNICATE:
            return True
        return self.state.holding_started_at is not None and self.phase not in (Phase.REVIEW, Phase.CLOSED)

    def statement(self, version: int) -> StatementVersion | None:
        return next((s for s in self.state.statements if s.version == version), None)

    def in_flight(self) -> StatementVersion | None:
        """The statement version still on its way to the public, if any."""
        latest = self.state.statements[-1] if self.state.statements else None
        if latest and latest.status in (
            StatementStatus.PENDING_APPROVAL,
            StatementStatus.APPROVED,
            StatementStatus.REJECTED,
        ):
            return latest
        return None

    def published(self) -> list[StatementVersion]:
        return [s for s in self.state.statements if s.status is StatementStatus.PUBLISHED]

    def threads(self) -> dict[str, str]:
        """Each target's post of the first statement it took: later statements reply to it (the
        status page updates that incident)."""
        threads: dict[str, str] = {}
        for statement in self.published():
            for receipt in statement.receipts:
                if receipt.error is None and receipt.provider_id and receipt.channel not in threads:
                    threads[receipt.channel] = receipt.provider_id
        return threads

    def publication_context(self) -> dict[str, Any]:
        """What the publishing targets need besides the text: the threads to answer, the severity
        and the status page's public name and components (from the playbook, never the internal title)."""
        status_page = self.playbook.communicate.status_page
        return {
            "threads": self.threads(),
            "severity": self.severity.value,
            "status_page_name": status_page.name or STATUS_PAGE_NAMES.get(self.playbook.scenario, STATUS_PAGE_NAME),
            "components": list(status_page.components),
        }

    def approved_unpublished(self) -> StatementVersion | None:
        current = self.in_flight()
        return current if current and current.status is StatementStatus.APPROVED else None

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

    def resolution_statement_due(self) -> bool:
        """After resolution the public hears the end of a story it was told the start of."""
        if not self.resolved or not self.published():
            return False
        return not any(s.kind is StatementKind.RESOLUTION for s in self.state.statements if s.status is not StatementStatus.WITHDRAWN)

    def communication_finished(self) -> bool:
        if not self.resolved:
            return False
        if not self.published():
            return True
        return any(s.kind is StatementKind.RESOLUTION and s.status is StatementStatus.PUBLISHED for s in self.state.statements)

    def next_statement_kind(self) -> StatementKind:
        if self.resolved:
            return StatementKind.RESOLUTION
        return StatementKind.UPDATE if self.published() else StatementKind.HOLDING

    def update_due(self, now: datetime, lead: timedelta = timedelta(0)) -> bool:
        """Time to draft the next update: ``lead`` (the approvers' window) before it is due, so that
        it can be public by the time the last statement promised."""
        due = self.state.next_update_due
        return due is not None and now >= due - lead and self.in_flight() is None and not self.resolved

    # ---- the answers kit -----------------------------------------------------------------
    # The team's replies to the public, pinned from the playbook and adapted per incident through
    # the statements' approval rule; never published by crisisflow.

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

    def answer_hold(self, answer_id: str) -> dict[str, Any] | None:
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
            return {"task": None, "fact": fact, "title": f"fact sheet: {fact}", "status": "empty", "why": why}
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
        return {"task": task_id, "fact": None, "title": title, "status": status, "why": why}

    def _require_released(self, answer_id: str, doing: str) -> None:
        if hold := self.answer_hold(answer_id):
            where = f"task '{hold['task']}'" if hold["task"] else f"fact sheet field '{hold['fact']}'"
            raise Rejected(f"answer '{answer_id}' is held: {hold['why']} ({where} is {hold['status']}); {doing} it then")

    def _release_answers(self, task_id: str, now: datetime) -> None:
        for pinned in self.plan.answers:
            if pinned.released_by is not None and pinned.released_by.task == task_id:
                title = self.task(task_id).title
                self._event(now, "answer_released", None, f"Answer '{pinned.id}' released: the task '{title}' that establishes it is done",
                            answer_id=pinned.id, task_id=task_id)

    def _release_answers_stated(self, before: FactSheet, now: datetime) -> None:
        """Answers bound to a fact sheet field that this edit filled in (a field cleared holds them again)."""
        for pinned in self.plan.answers:
            fact = pinned.released_by.fact if pinned.released_by else None
            if fact and not getattr(before, fact) and getattr(self.state.fact_sheet, fact):
                self._event(now, "answer_released", None, f"Answer '{pinned.id}' released: the public fact sheet now states its '{fact}'",
                            answer_id=pinned.id, fact=fact)

    def answer_max_length(self) -> int:
        limit = self.playbook.communicate.max_length
        return min(limit, ANSWER_MAX_LENGTH) if limit is not None else ANSWER_MAX_LENGTH

    def answers_kit(self) -> list[dict[str, Any]]:
        """Every answer as the people replying should use it now, with the proposal in approval if any."""
        kit = []
        for answer_id in self.answer_ids():
            in_use = self.answer_in_use(answer_id)
            history = self.answer_history(answer_id)
            latest = history[-1] if history else None
            proposal = latest if latest and latest.status in (AnswerStatus.PENDING_APPROVAL, AnswerStatus.REJECTED) else None
            entry: dict[str, Any] = {"id": answer_id, "question": None, "text": None, "version": None, "source": "proposed", "approved_by": [],
                                     "released": True, "waiting_for": None, "held_text": None}
            if hold := self.answer_hold(answer_id):
                entry |= {"question": in_use.question, "version": 1, "source": "playbook", "released": False, "waiting_for": hold, "held_text": in_use.text}
            elif isinstance(in_use, AnswerVersion):
                approvals = [d.person for d in in_use.decisions if d.decision is Verdict.APPROVE]
                entry |= {"question": in_use.question, "text": in_use.text, "version": in_use.version, "source": "incident", "approved_by": approvals}
            elif in_use is not None:
                entry |= {"question": in_use.question, "text": in_use.text, "version": 1, "source": "playbook"}
            else:
                entry["question"] = latest.question
            entry["proposal"] = proposal.model_dump(mode="json") if proposal else None
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
            raise Rejected(f"answer_id: unknown answer '{answer_id}' (this incident's kit has: {known}); give a question to add it", "invalid")
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
            number=number, answer_id=answer_id, version=version, question=question, text=action.text,
            author=action.person, created_at=now, diff=diff,
        )
        self.state.answer_versions.append(proposal)
        added = "" if pinned or history else " (a new answer)"
        self._event(now, "answer_proposed", action.person, f"Answer '{answer_id}' v{version} proposed by {action.person}{added}", answer_id=answer_id, version=version, number=number, via=action.via)
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
        if proposal.status is not AnswerStatus.PENDING_APPROVAL:
            raise Rejected(f"answer '{answer_id}' v{version} is {proposal.status.value.replace('_', ' ')}; nothing to decide")
        if any(d.person == action.person for d in proposal.decisions):
            raise Rejected(f"'{action.person}' has already decided on answer '{answer_id}' v{version}")
        if not any(action.person in self.members(role) for role in self.outstanding_approver_roles(proposal)):
            raise Rejected(f"answer '{answer_id}' v{version} already has the approvals of every role '{action.person}' holds")

    def decide_answer(self, answer_id: str, version: int, action: StatementDecision, now: datetime) -> AnswerVersion:
        proposal = self.answer_version(answer_id, version)
        roles = self._deciding_roles(proposal, action.person)
        proposal.decisions.append(Decision(person=action.person, roles=roles, decision=action.decision, comment=action.comment, at=now))
        label = f"answer '{answer_id}' v{version}"
        if action.decision is Verdict.REJECT:
            proposal.status = AnswerStatus.REJECTED
            comment = f": {action.comment}" if action.comment else ""
            self._event(now, "answer_rejected", action.person, f"Changes requested on {label} by {action.person}{comment}", answer_id=answer_id, version=version, via=action.via)
            return proposal
        self._event(now, "answer_approved_by", action.person, f"{label[0].upper()}{label[1:]} approved by {action.person} ({', '.join(roles)})", answer_id=answer_id, version=version, roles=roles, via=action.via)
        if not self.outstanding_approver_roles(proposal):
            replaced = self.answer_in_use(answer_id)
            if isinstance(replaced, AnswerVersion):
                replaced.status = AnswerStatus.SUPERSEDED
            proposal.status = AnswerStatus.APPROVED
            proposal.approved_at = now
            was = f"v{replaced.version}" if isinstance(replaced, AnswerVersion) else ("the playbook's v1" if replaced else "nothing")
            self._event(now, "answer_approved", None, f"Answer '{answer_id}' v{version} approved by {self.approval_rule()}; it replaces {was} for this incident", answer_id=answer_id, version=version)
        return proposal

    def pending_answers(self) -> list[dict[str, Any]]:
        """Answer proposals waiting on approvers, and rejected ones waiting on a revision."""
        items: list[dict[str, Any]] = []
        if self.closed:
            return items
        authors = list(dict.fromkeys(self.members(self.playbook.communicate.author) + self.members(self.commander_role)))
        for answer_id in self.answer_ids():
            history = self.answer_history(answer_id)
            latest = history[-1] if history else None
            if latest and latest.status is AnswerStatus.PENDING_APPROVAL:
                for role in self.outstanding_approver_roles(latest):
                    deciders = [p for p in self.members(role) if not any(d.person == p for d in latest.decisions)]
                    items.append({"kind": "answer_approval", "answer_id": answer_id, "version": latest.version, "number": latest.number, "role": role,
                                  "people": deciders, "due_at": None, "title": f"Approve answer '{answer_id}' v{latest.version} as {role}"})
            elif latest and latest.status is AnswerStatus.REJECTED and self.phase in ACTIVE_PHASES:
                items.append({"kind": "answer_draft", "answer_id": answer_id, "version": latest.version, "people": authors, "due_at": None,
                              "title": f"Revise answer '{answer_id}' v{latest.version} (changes requested)"})
        return items

    # ---- internal and partner messages ----------------------------------------------------
    # Each internal audience of the playbook gets its own message, drafted from its template when
    # the communicate phase starts, approved like a statement, then emailed to its roster groups.

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
        message = InternalVersion(number=number, audience=audience_id, name=audience.name, version=version, text=text, author=author, created_at=now, diff=diff)
        self.state.internal_messages.append(message)
        self._event(now, "internal_drafted", author, f"Internal message for {audience.name} v{version} drafted by {author}",
                    audience=audience_id, version=version, number=number, via=via)
        return message

    def check_internal_draft(self, audience_id: str, action: StatementDraft) -> None:
        if len(action.text) > INTERNAL_MAX_LENGTH:
            raise Rejected(f"text: {len(action.text)} characters; an internal message takes at most {INTERNAL_MAX_LENGTH}", "invalid")
        self._require_phase("revise internal messages", Phase.COMMUNICATE)
        self._require_role(action.person, [self.playbook.communicate.author, self.commander_role], "revise internal messages")
        if self.audience(audience_id) is None:
            known = ", ".join(a.id for a in self.playbook.internal) or "none"
            raise Rejected(f"audience: unknown internal audience '{audience_id}' (this playbook has: {known})", "invalid")
        history = self.internal_history(audience_id)
        if not history:
            raise Rejected(f"the message for '{audience_id}' is not drafted yet; revise it once its draft is there")
        if history[-1].status in (InternalStatus.APPROVED, InternalStatus.SENT):
            raise Rejected(f"the message for '{audience_id}' v{history[-1].version} is {history[-1].status.value}; nothing to revise")

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
        if message.status is not InternalStatus.PENDING_APPROVAL:
            raise Rejected(f"the message for '{audience_id}' v{version} is {message.status.value.replace('_', ' ')}; nothing to decide")
        if any(d.person == action.person for d in message.decisions):
            raise Rejected(f"'{action.person}' has already decided on the message for '{audience_id}' v{version}")
        if not any(action.person in self.members(role) for role in self.outstanding_approver_roles(message)):
            raise Rejected(f"the message for '{audience_id}' v{version} already has the approvals of every role '{action.person}' holds")

    def decide_internal(self, audience_id: str, version: int, action: StatementDecision, now: datetime) -> InternalVersion:
        message = next(v for v in self.internal_history(audience_id) if v.version == version)
        roles = self._deciding_roles(message, action.person)
        message.decisions.append(Decision(person=action.person, roles=roles, decision=action.decision, comment=action.comment, at=now))
        label = f"internal message for {message.name} v{version}"
        if action.decision is Verdict.REJECT:
            message.status = InternalStatus.REJECTED
            comment = f": {action.comment}" if action.comment else ""
            self._event(now, "internal_rejected", action.person, f"Changes requested on the {label} by {action.person}{comment}", audience=audience_id, version=version, via=action.via)
            return message
        self._event(now, "internal_approved_by", action.person, f"The {label} approved by {action.person} ({', '.join(roles)})", audience=audience_id, version=version, via=action.via)
        if not self.outstanding_approver_roles(message):
            message.status = InternalStatus.APPROVED
            self._event(now, "internal_approved", None, f"The {label} approved by {self.approval_rule()}", audience=audience_id, version=version)
        return message

    def internal_to_send(self) -> list[InternalVersion]:
        return [v for v in self.state.internal_messages if v.status is InternalStatus.APPROVED]

    def mark_internal_sent(self, number: int, reached: int, now: datetime) -> None:
        message = self.internal_message(number)
        message.status = InternalStatus.SENT
        message.sent_at = now
        message.reached = reached
        self._event(now, "internal_sent", None, f"Internal message for {message.name} v{message.version} sent: {reached} email(s)",
                    audience=message.audience, version=message.version, reached=reached)

    def withdraw_internal(self, now: datetime) -> None:
        """At close, a message never approved is not sent late."""
        for message in self.state.internal_messages:
            if message.status in (InternalStatus.PENDING_APPROVAL, InternalStatus.REJECTED):
                message.status = InternalStatus.WITHDRAWN
                self._event(now, "internal_withdrawn", None, f"Internal message for {message.name} v{message.version} withdrawn: the incident closed before it was approved",
                            audience=message.audience, version=message.version)

    def pending_internal(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        if self.closed:
            return items
        authors = list(dict.fromkeys(self.members(self.playbook.communicate.author) + self.members(self.commander_role)))
        for audience in self.playbook.internal:
            history = self.internal_history(audience.id)
            latest = history[-1] if history else None
            if latest and latest.status is InternalStatus.PENDING_APPROVAL:
                for role in self.outstanding_approver_roles(latest):
                    deciders = [p for p in self.members(role) if not any(d.person == p for d in latest.decisions)]
                    items.append({"kind": "internal_approval", "audience": audience.id, "version": latest.version, "number": latest.number, "role": role,
                                  "people": deciders, "due_at": None, "title": f"Approve the internal message for {audience.name} v{latest.version} as {role}"})
            elif latest and latest.status is InternalStatus.REJECTED:
                items.append({"kind": "internal_draft", "audience": audience.id, "version": latest.version, "people": authors, "due_at": None,
                              "title": f"Revise the internal message for {audience.name} v{latest.version} (changes requested)"})
        return items

    # ---- checks (Update validators) --------------------------------------------------------

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

    def check_acknowledge(self, action: Acknowledge) -> None:
        self._require_open()
        self._require_person(action.person)
        roles = [r for r, ack in self.state.acknowledgements.items() if action.person in self.members(r)]
        if not roles:
            paged = ", ".join(self.state.acknowledgements)
            raise Rejected(f"person: '{action.person}' holds none of the paged roles ({paged})", "invalid")
        if all(self.is_acknowledged(r) for r in roles):
            by = ", ".join(f"{r} by {self.state.acknowledgements[r].acknowledged_by}" for r in roles)
            raise Rejected(f"already acknowledged ({by})")

    def check_assessment(self, action: Assessment) -> None:
        self._require_phase("submit the assessment", Phase.ASSESS)
        self._require_role(action.person, [self.commander_role], "assess the incident")
        if self.state.assessment is not None:
            raise Rejected(f"already assessed by {self.state.assessment.person}")
        if action.severity is None and (action.impact is None or action.reach is None):
            raise Rejected("severity: give a severity, or both impact and reach for the severity matrix", "invalid")
        known = {q.id for q in self.playbook.assess.questions}
        unknown = sorted(set(action.answers) - known)
        if unknown:
            raise Rejected(
                f"answers: unknown question {', '.join(unknown)} (this playbook asks: {', '.join(sorted(known))})",
                "invalid",
            )

    def fact_sheet_editors(self) -> list[str]:
        return list(dict.fromkeys([self.playbook.communicate.author, self.commander_role]))

    def check_fact_sheet_edit(self, action: FactSheetEdit) -> None:
        self._require_open()
        self._require_role(action.person, self.fact_sheet_editors(), "edit the public fact sheet")
        if not self.state.fact_sheet.changed_fields(self.state.fact_sheet.edited(action.fields)):
            raise Rejected("fields: nothing would change; give at least one field with a new value", "invalid")

    def check_reassessment(self, action: Reassessment) -> None:
        self._require_open()
        self._require_role(action.person, [self.commander_role], "change the severity")
        if self.state.assessment is None:
            raise Rejected("the incident is not assessed yet: the assessment sets the first severity")
        if action.severity is self.severity:
            raise Rejected(f"severity: the incident is already {self.severity}", "invalid")

    def check_complete_task(self, task_id: str, action: TaskCompletion) -> None:
        self._require_open()
        ids = [t.id for t in self.state.tasks] or [t.id for t in self.playbook.respond.tasks]
        if task_id not in ids:
            raise Rejected(f"task_id: unknown task '{task_id}' (this playbook has: {', '.join(ids)})", "invalid")
        self._require_phase("complete tasks", Phase.RESPOND, Phase.COMMUNICATE)
        task = self.task(task_id)
        if task.status is not TaskStatus.OPEN:
            raise Rejected(f"task '{task_id}' is already {task.status.value}")
        self._require_role(action.person, [task.owner, self.commander_role], f"complete '{task_id}'")

    def check_statement_draft(self, action: StatementDraft) -> None:
        limit = self.playbook.communicate.max_length
        if limit is not None and len(action.text) > limit:
            raise Rejected(f"text: {len(action.text)} characters; this playbook's channels take at most {limit}", "invalid")
        if self.public_voice and (over := variant_problems(self.draft_variants(action))):
            hint = "; give a shorter text, a `short` form for the short channels, or a `title`"
            raise Rejected(f"variants: {'; '.join(over)}{hint}", "invalid")
        if not self.statements_open():
            self._require_phase("draft a statement", Phase.COMMUNICATE)
        self._require_role(action.person, [self.playbook.communicate.author, self.commander_role], "draft statements")
        current = self.in_flight()
        if current and current.status is StatementStatus.APPROVED:
            raise Rejected(f"version {current.version} is approved and being published; draft again after it is out")
        if self.communication_finished():
            said = "its resolution statement is published" if self.published() else "nothing more is due to the public"
            raise Rejected(f"the incident is resolved and {said}")

    def check_decision(self, version: int, action: StatementDecision) -> None:
        self._require_open()
        statement = self.statement(version)
        if statement is None:
            raise Rejected(f"version: there is no statement version {version}", "invalid")
        approvers = self.playbook.communicate.approvers
        self._require_role(action.person, approvers, "decide on statements")
        if statement.status is not StatementStatus.PENDING_APPROVAL:
            raise Rejected(f"statement version {version} is {statement.status.value}; nothing to decide")
        if any(d.person == action.person for d in statement.decisions):
            raise Rejected(f"'{action.person}' has already decided on version {version}")
        outstanding = self.outstanding_approver_roles(statement)
        if not any(action.person in self.members(role) for role in outstanding):
            raise Rejected(f"version {version} already has the approvals of every role '{action.person}' holds")
        if action.decision is Verdict.APPROVE and (over := variant_problems(statement.variants)):
            raise Rejected(f"version {version} cannot be approved as it is ({'; '.join(over)}): request changes instead", "invalid")

    def check_resolve(self, action: Resolution) -> None:
        self._require_phase("resolve", *ACTIVE_PHASES)
        self._require_role(action.person, [self.commander_role], "resolve the incident")
        if self.resolved:
            raise Rejected(f"already resolved by {self.state.resolution.person}")
        for obligation in self.obligations_open():
            task = self.task(obligation.met_by)
            due = self.state.deadlines[f"obligation.{obligation.id}"].due_at
            raise Rejected(
                f"the task '{task.title}' is still open and meets an obligation: {obligation.label} (due {due:%Y-%m-%d %H:%M} UTC); "
                f"complete it first, with a note saying why if it is not required"
            )

    def obligations_open(self) -> list[Obligation]:
        """The playbook's obligations whose task is open: they outlive the public story."""
        open_ids = {t.id for t in self.open_tasks()}
        return [o for o in self.playbook.obligations if o.met_by in open_ids]

    def check_review(self, action: ReviewSubmission) -> None:
        self._require_phase("submit the review", Phase.REVIEW)
        self._require_role(action.person, [self.commander_role], "submit the review")
        if self.state.review is not None:
            raise Rejected(f"the review was already submitted by {self.state.review.person}")

    def check_feedback(self, action: FeedbackSubmission) -> None:
        if self.phase is not Phase.REVIEW or self.state.review is not None:
            raise Rejected("the review is closed; feedback is collected only until the review is submitted")
        self._require_person(action.person)
        if any(f.person == action.person for f in self.state.feedback):
            raise Rejected(f"'{action.person}' has already given feedback on this incident")

    # ---- changes ---------------------------------------------------------------------------

    def record_page(self, role: str, person: str, level: int, round_: int, now: datetime) -> None:
        self.state.acknowledgements[role].pages.append(Page(person=person, level=level, round=round_, at=now))
        if level:
            verb = "Escalated to"
        else:
            verb = "Paged again" if round_ else "Paged"
        self._event(now, "paged", None, f"{verb} {person} {_page_place(role, level, round_)}", role=role, person=person, level=level, round=round_)

    def record_page_withdrawn(self, role: str, person: str, level: int, round_: int, now: datetime) -> None:
        """A page still being retried (a provider was out) when the role was answered: not sent late."""
        taker = self.state.acknowledgements[role].acknowledged_by
        why = f"{taker} took it" if taker else "the incident was resolved"
        self._event(now, "page_withdrawn", None, f"Stopped retrying the page to {person} {_page_place(role, level, round_)}: {why} first",
                    role=role, person=person, level=level, round=round_)

    def record_no_answer(self, role: str, person: str, waited: timedelta, now: datetime) -> None:
        self._event(now, "page_unanswered", None, f"No acknowledgement from {person} ({role}) within {humanize(waited)}", role=role, person=person)

    def record_delivery_failure(self, person: str, failed: str, fallback: str, reason: str, now: datetime) -> None:
        self._event(now, "delivery_failed", None, f"{failed} to {person} did not arrive ({reason}); sent again by {fallback}", person=person, channel=failed, fallback=fallback)

    def record_notice_failed(self, who: str, channels: list[str], reason: str, what: str, reached_by: list[str], now: datetime) -> None:
        """A notice (not a page) that a channel did not deliver in its bounded time, or refused for good."""
        outcome = f"reached by {' and '.join(reached_by)}" if reached_by else "not delivered"
        message = f"{' and '.join(channels)} to {who} failed ({reason}) for: {what}; {outcome}"
        self._event(now, "notice_failed", None, message, person=who, channels=channels, reason=reason, what=what, reached_by=reached_by)

    def record_data_error(self, what: str, reason: str, now: datetime) -> None:
        """The database refused data of this incident for ``what``: not retried (it would be refused
        again), shown here and counted by ``/readyz``."""
        self._event(now, "data_error", None, f"The database refused this incident's data for {what} ({reason}); not retried: check its texts", what=what, reason=reason)

    def record_chain_exhausted(self, role: str, now: datetime) -> None:
        self.state.acknowledgements[role].exhausted = True
        self._event(now, "escalation_exhausted", None, f"Nobody in {role} acknowledged after every escalation level", role=role)

    def acknowledge(self, action: Acknowledge, now: datetime) -> None:
        for role, ack in self.state.acknowledgements.items():
            if action.person in self.members(role) and ack.acknowledged_by is None:
                ack.acknowledged_by = action.person
                ack.acknowledged_at = now
                self._meet(f"acknowledge.{role}", now)
                self._event(now, "acknowledged", action.person, f"{action.person} acknowledged as {role}", role=role, via=action.via)

    def enter(self, phase: Phase, now: datetime) -> None:
        previous = self.state.phase
        self.state.phase = phase
        if phase is Phase.ASSESS:
            within = self.playbook.assess.due_within.at(self.severity)
            self._deadline("assessment", "assessment submitted", now + within)
        elif phase is Phase.RESPOND:
            self._open_tasks(now)
        elif phase is Phase.REVIEW:
            self._deadline("review", "post-incident review submitted", now + self.playbook.review.due_after)
        elif phase is Phase.CLOSED:
            self.state.closed_at = now
        self._event(now, "phase_changed", None, f"Phase {previous.value} → {phase.value}", phase=phase.value, previous=previous.value)

    def assess(self, action: Assessment, now: datetime) -> None:
        severity = action.severity or severity_from_matrix(action.impact, action.reach)
        assessment = action.model_copy(update={"severity": severity})
        self.state.assessment = assessment
        self.state.assessed_at = now
        self._meet("assessment", now)
        changed = severity is not self.state.severity
        previous = self.state.severity
        self.state.severity = severity
        if changed:
            self._set_first_statement_deadline()
        note = f" (was {previous})" if changed else ""
        self._event(now, "assessed", action.person, f"Assessed as {severity}{note}", severity=severity.value, previous=previous.value, via=action.via)
        if action.fact_sheet is not None:
            self._edit_fact_sheet(action.fact_sheet, action.person, now, via=action.via)

    def reassess(self, action: Reassessment, now: datetime) -> None:
        """A new severity: the deadlines it sets that are still to come follow it (the first
        statement, hence the holding point); an update already promised to the public stands."""
        previous = self.state.severity
        self.state.severity = action.severity
        self._set_first_statement_deadline()
        way = "raised" if action.severity.value < previous.value else "lowered"
        self._event(now, "severity_changed", action.person, f"Severity {way} from {previous} to {action.severity} by {action.person}: {action.reason}",
                    severity=action.severity.value, previous=previous.value, reason=action.reason, via=action.via)

    def paged_people(self) -> list[str]:
        """Everyone paged for this incident so far, in the order they were paged."""
        return list(dict.fromkeys(page.person for ack in self.state.acknowledgements.values() for page in ack.pages))

    def edit_fact_sheet(self, action: FactSheetEdit, now: datetime) -> FactSheetVersion:
        return self._edit_fact_sheet(action.fields, action.person, now, via=action.via)

    def _edit_fact_sheet(self, fields: FactSheetFields, author: str, now: datetime, via: str | None = None) -> FactSheetVersion | None:
        """A new version of the public fact sheet; None when ``fields`` change nothing."""
        current = self.state.fact_sheet
        sheet = current.edited(fields)
        changed = current.changed_fields(sheet)
        if not changed:
            return None
        version = FactSheetVersion(version=len(self.state.fact_sheet_versions) + 1, sheet=sheet, author=author, at=now, changed=changed)
        self.state.fact_sheet = sheet
        self.state.fact_sheet_versions.append(version)
        self._event(now, "fact_sheet_edited", author, f"Public fact sheet v{version.version} by {author}: {', '.join(changed)}", version=version.version, changed=changed, via=via)
        self._release_answers_stated(current, now)
        return version

    def _open_tasks(self, now: datetime) -> None:
        for task in self.playbook.respond.tasks:
            due = now + task.due_after
            assignee = self.on_duty(task.owner)
            self.state.tasks.append(TaskState(id=task.id, title=task.title, owner=task.owner, assignee=assignee, due_at=due))
            self._deadline(f"task.{task.id}", task.title, due)
            self._event(now, "task_assigned", None, f"Task '{task.title}' assigned to {assignee} ({task.owner})", task_id=task.id, person=assignee)

    def record_task_reminder(self, task_id: str, now: datetime) -> None:
        task = self.task(task_id)
        task.reminded = True
        self._event(now, "task_reminded", None, f"Task '{task.title}' is overdue; reminded {task.assignee}", task_id=task_id, person=task.assignee)

    def escalate_task(self, task_id: str, now: datetime) -> bool:
        """Pass an overdue task to the next person in its owner role; False when there is none."""
        task = self.task(task_id)
        chain = self.members(task.owner)
        position = chain.index(task.assignee) if task.assignee in chain else -1
        if position + 1 >= len(chain):
            return False
        previous = task.assignee
        task.assignee = chain[position + 1]
        task.escalations += 1
        self._event(now, "task_escalated", None, f"Task '{task.title}' passed from {previous} to {task.assignee}", task_id=task_id, person=task.assignee)
        return True

    def complete_task(self, task_id: str, action: TaskCompletion, now: datetime) -> None:
        task = self.task(task_id)
        task.status = TaskStatus.DONE
        task.done_by = action.person
        task.done_at = now
        task.note = action.note
        self._meet(f"task.{task_id}", now)
        self._event(now, "task_completed", action.person, f"Task '{task.title}' done by {action.person}", task_id=task_id, note=action.note, via=action.via)
        self._release_answers(task_id, now)
        for obligation in self.playbook.obligations:
            if obligation.met_by == task_id:
                self._meet(f"obligation.{obligation.id}", now)

    def cancel_open_tasks(self, now: datetime) -> None:
        for task in self.open_tasks():
            task.status = TaskStatus.CANCELLED
            self.state.deadlines[f"task.{task.id}"].waived = True
            self._event(now, "task_cancelled", None, f"Task '{task.title}' cancelled: the incident was resolved", task_id=task.id)
        for obligation in self.playbook.obligations:
            deadline = self.state.deadlines[f"obligation.{obligation.id}"]
            if deadline.met_at is None and not deadline.waived:
                # Resolution waits for an obligation's open task, so one unmet here never reached the
                # respond phase: the incident was closed as a false alarm before anything was established.
                deadline.waived = True
                self._event(now, "obligation_waived", None, f"Deadline waived: {obligation.label} (resolved before the respond phase)", deadline=deadline.name)

    def open_statements_early(self, now: datetime) -> None:
        """The holding point passed before the assessment and checklist were done: the holding
        statement goes to approval now, so the first statement can still be public on time."""
        self.state.holding_started_at = now
        due = self.state.deadlines["first_statement"].due_at
        waiting = {Phase.IDENTIFY: "the commander's acknowledgement", Phase.ASSESS: "the assessment"}.get(self.phase, "the checklist")
        self._event(now, "holding_on_time", None, f"Holding point reached: the holding statement goes to approval without waiting for {waiting}, "
                    f"so that it can be public by {due:%H:%M} UTC", due_at=due.isoformat())

    def add_statement(
        self, kind: StatementKind, text: str, author: str, now: datetime, via: str | None = None, promise: datetime | None = None,
        variants: list[Variant] | None = None,
    ) -> StatementVersion:
        """A new statement version. With ``variants`` (the public voice), ``text`` is the long form
        and the version records the fact sheet it was drafted from, what changed in the sheet since
        the last published statement, and whether it repeats that statement."""
        current = self.in_flight()
        if current is not None and current.status is StatementStatus.PENDING_APPROVAL:
            current.status = StatementStatus.SUPERSEDED
        number = len(self.state.statements) + 1
        previous = self.state.statements[-1] if self.state.statements else None
        variants = variants or []
        statement = StatementVersion(version=number, kind=kind, text=text, author=author, created_at=now, promise=promise, variants=variants)
        if previous:
            statement.diff = text_diff(self._diffable(previous), self._diffable(statement), f"v{previous.version}", f"v{number}")
        if variants:
            statement.fact_sheet_version = len(self.state.fact_sheet_versions)
            statement.changed = self.changed_since_published()
            statement.repeats, statement.repeats_why = self._repeats(statement)
        self.state.statements.append(statement)
        self._event(now, "statement_drafted", author, f"Statement v{statement.version} ({kind.value}) drafted by {author}", version=statement.version, statement_kind=kind.value, via=via)
        if over := variant_problems(variants):
            self._event(now, "statement_over_limit", None, f"Statement v{number} cannot be approved as it is: {'; '.join(over)}", version=number, problems=over)
        if statement.repeats is not None:
            self._event(now, "statement_repeats", None, f"Statement v{number} says nothing new since v{statement.repeats}: {statement.repeats_why}", version=number, repeats=statement.repeats)
        return statement

    @staticmethod
    def _diffable(statement: StatementVersion) -> str:
        return describe(statement.variants) if statement.variants else statement.text

    def last_published(self) -> StatementVersion | None:
        published = self.published()
        return published[-1] if published else None

    def fact_sheet_at(self, version: int | None) -> FactSheet:
        """The public fact sheet as it was at ``version`` (0 or None: empty)."""
        return self.state.fact_sheet_versions[version - 1].sheet if version else FactSheet()

    def changed_since_published(self) -> list[str]:
        """The fact sheet's fields changed since the last published statement was drafted (every
        field with a value when nothing was published yet)."""
        last = self.last_published()
        before = self.fact_sheet_at(last.fact_sheet_version) if last else FactSheet()
        return before.changed_fields(self.state.fact_sheet)

    def _repeats(self, statement: StatementVersion) -> tuple[int | None, str | None]:
        """The last published version and why, when ``statement`` says nothing it did not: the same
        variants, or (drafted from the template) a fact sheet unchanged since."""
        last = self.last_published()
        if last is None or statement.kind is StatementKind.RESOLUTION:
            return None, None
        if [(v.channel, v.title, v.text) for v in statement.variants] == [(v.channel, v.title, v.text) for v in last.variants]:
            return last.version, "the same text on every channel"
        if statement.author == SYSTEM_AUTHOR and not statement.changed:
            return last.version, f"the public fact sheet has not changed since v{last.version}; edit it to say what is new"
        return None, None

    def draft_variants(self, action: StatementDraft) -> list[Variant]:
        """A person's draft as channel variants: ``text`` is the long form, ``short`` the short one
        (the long one when not given), ``title`` the status page's and the email's title (else the
        last statement's, else the fact sheet's headline, else the text's first line)."""
        last_title = next((v.title for s in reversed(self.state.statements) for v in s.variants if v.title), None)
        forms = {
            VariantForm.LONG: action.text,
            VariantForm.SHORT: action.short or action.text,
            VariantForm.TITLE: action.title or last_title or self.state.fact_sheet.headline or action.text.strip().splitlines()[0],
        }
        return build_variants(forms, self.playbook.communicate.channels)

    def draft_statement(self, action: StatementDraft, now: datetime) -> StatementVersion:
        current = self.in_flight()
        kind = current.kind if current else self.next_statement_kind()
        # A revision keeps the promise of the version it revises: its text was drafted around it.
        promise = current.promise if current else None
        variants = self.draft_variants(action) if self.public_voice else None
        return self.add_statement(kind, action.text, action.person, now, via=action.via, promise=promise, variants=variants)

    def decide(self, version: int, action: StatementDecision, now: datetime) -> None:
        statement = self.statement(version)
        roles = self._deciding_roles(statement, action.person)
        statement.decisions.append(Decision(person=action.person, roles=roles, decision=action.decision, comment=action.comment, at=now))
        if action.decision is Verdict.REJECT:
            statement.status = StatementStatus.REJECTED
            comment = f": {action.comment}" if action.comment else ""
            self._event(now, "statement_rejected", action.person, f"Changes requested on v{version} by {action.person}{comment}", version=version, via=action.via)
            return
        self._event(now, "statement_approved_by", action.person, f"v{version} approved by {action.person} ({', '.join(roles)})", version=version, roles=roles, via=action.via)
        if not self.outstanding_approver_roles(statement):
            statement.status = StatementStatus.APPROVED
            statement.sha256 = set_sha256(statement.variants) if statement.variants else text_sha256(statement.text)
            self._event(now, "statement_approved", None, f"Statement v{version} approved by {self.approval_rule()}", version=version, sha256=statement.sha256)

    def add_fallback(self, text: str, now: datetime, promise: datetime | None = None, variants: list[Variant] | None = None) -> StatementVersion:
        """The playbook's pre-approved holding statement, approved by the playbook itself: rendered
        from an empty fact sheet, so it says only what the playbook's reviewers approved."""
        current = self.in_flight()
        if current is not None and current.status is StatementStatus.PENDING_APPROVAL:
            current.status = StatementStatus.SUPERSEDED
        statement = self.add_statement(StatementKind.HOLDING, text, "fallback", now, promise=promise, variants=variants)
        statement.fallback = True
        statement.status = StatementStatus.APPROVED
        statement.sha256 = set_sha256(statement.variants) if statement.variants else text_sha256(text)
        self._event(now, "fallback_statement", None, f"No statement approved in time: publishing the pre-approved fallback holding statement (v{statement.version})", version=statement.version)
        return statement

    def mark_published(self, version: int, now: datetime, receipts: list[Receipt] | None = None) -> None:
        statement = self.statement(version)
        statement.status = StatementStatus.PUBLISHED
        statement.published_at = now
        statement.receipts = list(receipts or [])
        wrong = [r.channel for r in statement.receipts if r.error is None and r.sha256 != self._expected_sha256(statement, r)]
        for failed in (r for r in statement.receipts if r.error):
            self._event(now, "publication_failed", None, f"Statement v{version} did not reach {failed.channel}: {failed.error}", version=version, target=failed.channel)
        if wrong:
            statement.mismatch = True
            self._event(now, "publication_mismatch", None, f"Statement v{version}: {', '.join(wrong)} received text that differs from the approved version", version=version, channels=wrong)
        self._meet("first_statement", now)
        if self._update_number():
            self._meet(f"update.{self._update_number()}", now)
        if statement.kind is StatementKind.RESOLUTION or self.resolved:
            self.state.next_update_due = None
        else:
            # The public was promised a time: the next update is due then, however long approval took.
            self.state.next_update_due = statement.promise or now + self.playbook.communicate.update_every.at(self.severity)
            label = f"next public update (promised for {statement.promise:%H:%M} UTC)" if statement.promise else "next public update"
            self._deadline(f"update.{self._update_number() + 1}", label, self.state.next_update_due)
        fallback = " as the fallback" if statement.fallback else ""
        self._event(now, "statement_published", None, f"Statement v{version} ({statement.kind.value}) published{fallback}", version=version, statement_kind=statement.kind.value, fallback=statement.fallback)

    @staticmethod
    def _expected_sha256(statement: StatementVersion, receipt: Receipt) -> str | None:
        """What a target must have sent: its channel's approved variant, or the approved text."""
        if statement.variants and receipt.variant:
            approved = find(statement.variants, receipt.variant)
            return variant_sha256(approved) if approved else None
        return statement.sha256

    def _update_number(self) -> int:
        return sum(1 for name in self.state.deadlines if name.startswith("update."))

    def withdraw_in_flight(self, now: datetime) -> None:
        """Drop a holding or update statement that is still in approval when the incident is resolved."""
        current = self.in_flight()
        if current is not None and current.status is not StatementStatus.APPROVED and current.kind is not StatementKind.RESOLUTION:
            current.status = StatementStatus.WITHDRAWN
            self._event(now, "statement_withdrawn", None, f"Statement v{current.version} withdrawn: the incident was resolved before it was published", version=current.version)

    def resolve(self, action: Resolution, now: datetime) -> None:
        self.state.resolution = ResolutionRecord(person=action.person, summary=action.summary, at=now)
        self.state.next_update_due = None
        self._event(now, "resolved", action.person, f"Resolved by {action.person}: {action.summary}", via=action.via)

    def record_reminder(self, subject: str, people: list[str], now: datetime, **data: Any) -> None:
        self._event(now, "reminder_sent", None, f"{subject} — reminded {', '.join(people)}", people=people, **data)

    def record_briefing(self, event: str, reached: int, now: datetime) -> None:
        self._event(now, "stakeholders_briefed", None, f"Stakeholders briefed ({event}): {reached} email(s)", event=event, reached=reached)

    def record_schedulers(self, event: str, what: str, receipts: list[Receipt], now: datetime) -> None:
        reached = [r.channel for r in receipts if r.error is None]
        missed = [f"{r.channel} ({r.error})" for r in receipts if r.error]
        note = f"; not reached: {', '.join(missed)}" if missed else ""
        self._event(now, "schedulers_told", None, f"{what}: told {', '.join(reached) or 'nobody'}{note}", event=event, targets=reached)

    def record_approval_escalated(self, version: int, role: str, previous: str, person: str, now: datetime) -> None:
        self._event(now, "approval_escalated", None, f"v{version} still awaits {role}: asked {person} because {previous} did not decide in time", version=version, role=role, person=person)

    def record_deadline_missed(self, name: str, now: datetime) -> None:
        deadline = self.state.deadlines[name]
        self._event(now, "deadline_missed", None, f"Deadline missed: {deadline.label} (due {deadline.due_at:%H:%M:%S} UTC)", deadline=name)

    def submit_review(self, action: ReviewSubmission, now: datetime) -> None:
        self.state.review = action
        self._meet("review", now)
        self._event(now, "review_submitted", action.person, f"Post-incident review submitted by {action.person} with {len(action.action_items)} action items", via=action.via)

    def record_feedback_requested(self, people: list[str], now: datetime, reminder: bool = False) -> None:
        self.state.feedback_requested = list(dict.fromkeys(self.state.feedback_requested + people))
        what = "Feedback reminder sent to" if reminder else "Feedback requested from"
        self._event(now, "feedback_requested", None, f"{what} {', '.join(people) or 'nobody'}", people=people, reminder=reminder)

    def awaiting_feedback(self) -> list[str]:
        given = {f.person for f in self.state.feedback}
        return [p for p in self.state.feedback_requested if p not in given]

    def submit_feedback(self, action: FeedbackSubmission, now: datetime) -> None:
        record = FeedbackRecord(person=action.person, rating=action.rating, went_well=action.went_well, went_badly=action.went_badly, at=now)
        self.state.feedback.append(record)
        self._event(now, "feedback_received", action.person, f"Feedback from {action.person}: {action.rating}/5", rating=action.rating, via=action.via)

    # ---- helpers ---------------------------------------------------------------------------

    def _set_first_statement_deadline(self) -> None:
        existing = self.state.deadlines.get("first_statement")
        if existing and existing.met_at:
            return
        due = self.state.declared_at + self.playbook.communicate.first_statement_within.at(self.state.severity)
        self._deadline("first_statement", "first public statement", due)

    def _deadline(self, name: str, label: str, due_at: datetime) -> None:
        self.state.deadlines[name] = Deadline(name=name, label=label, due_at=due_at)

    def _meet(self, name: str, now: datetime) -> None:
        deadline = self.state.deadlines.get(name)
        if deadline and deadline.met_at is None:
            deadline.met_at = now

    def _event(self, now: datetime, kind: str, actor: str | None, message: str, via: str | None = None, **data: Any) -> None:
        self.state.timeline.append(
            TimelineEvent(seq=len(self.state.timeline) + 1, at=now, kind=kind, actor=actor, via=via, message=message, data=data)
        )
        self.state.revision += 1

    # ---- what waits on people --------------------------------------------------------------

    def pending(self, now: datetime) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        if self.closed:
            return items
        deadlines = self.state.deadlines

        def due(name: str) -> datetime | None:
            deadline = deadlines.get(name)
            return deadline.due_at if deadline else None

        for role, ack in self.state.acknowledgements.items():
            if ack.acknowledged_by is None and (ack.pages or self.phase is Phase.IDENTIFY):
                items.append({"kind": "acknowledge", "role": role, "people": self.members(role), "due_at": due(f"acknowledge.{role}"), "title": f"Acknowledge the page as {role}"})
        commanders = self.members(self.commander_role)
        if self.phase is Phase.ASSESS and self.state.assessment is None:
            items.append({"kind": "assessment", "people": commanders, "due_at": due("assessment"), "title": "Assess impact, reach and severity", "questions": [q.model_dump() for q in self.playbook.assess.questions]})
        for task in self.open_tasks():
            people = [task.assignee] + [p for p in self.members(task.owner) + commanders if p != task.assignee]
            items.append({"kind": "task", "task_id": task.id, "people": list(dict.fromkeys(people)), "due_at": task.due_at, "title": task.title})
        if self.statements_open():
            current = self.in_flight()
            statement_due = due("first_statement") if not self.published() else self.state.next_update_due
            authors = list(dict.fromkeys(self.members(self.playbook.communicate.author) + commanders))
            if current and current.status is StatementStatus.PENDING_APPROVAL:
                for role in self.outstanding_approver_roles(current):
                    deciders = [p for p in self.members(role) if not any(d.person == p for d in current.decisions)]
                    items.append({"kind": "approval", "version": current.version, "role": role, "people": deciders, "due_at": statement_due, "title": f"Approve statement v{current.version} as {role}"})
            elif current and current.status is StatementStatus.REJECTED:
                items.append({"kind": "statement_draft", "people": authors, "due_at": statement_due, "title": f"Revise statement v{current.version} (changes requested)", "version": current.version})
        items += self.pending_answers()
        items += self.pending_internal()
        if self.phase in ACTIVE_PHASES and not self.resolved:
            items.append({"kind": "resolve", "people": commanders, "due_at": None, "title": "Resolve the incident when it is over"})
        if self.phase is Phase.REVIEW and self.state.review is None:
            items.append({"kind": "review", "people": commanders, "due_at": due("review"), "title": "Submit the post-incident review"})
            if awaiting := self.awaiting_feedback():
                items.append({"kind": "feedback", "people": awaiting, "due_at": due("review"), "title": "Give feedback on the response (1–5, what went well and badly)"})
        return items

    def view(self, now: datetime) -> dict[str, Any]:
        """The incident as the API shows it (JSON-ready)."""
        data = self.state.model_dump(mode="json", exclude={"revision", "acknowledgements"})
        data["status"] = "closed" if self.closed else "open"
        data["scenario"] = self.state.scenario
        data["acknowledgements"] = [ack.model_dump(mode="json") for ack in self.state.acknowledgements.values()]
        resolved_at = self.state.resolution.at if self.state.resolution else None
        data["deadlines"] = [
            {**d.model_dump(mode="json"), "status": d.status(now, resolved_at, self.closed)} for d in self.state.deadlines.values()
        ]
        data["pending"] = [
            {**item, "due_at": item["due_at"].isoformat() if item["due_at"] else None} for item in self.pending(now)
        ]
        data["answers_kit"] = self.answers_kit()
        return data
