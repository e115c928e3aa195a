"""An incident's state: the workflow's input (the plan pinned at declaration) and everything the
rules in :mod:`domain.incident` change, as pydantic models the workflow queries return."""

import difflib
import hashlib
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from domain.actions import Assessment, ReviewSubmission, Verdict
from domain.answers import PinnedAnswer
from domain.events import EventKind
from domain.factsheet import FactSheet, FactSheetFields, FactSheetVersion
from domain.lenient import LenientInput
from domain.listening import DetectionOrigin
from domain.playbook import Playbook
from domain.roster import OrgChart
from domain.severity import Severity
from domain.statements import StatementKind
from domain.variants import Variant, describe

SYSTEM_AUTHOR = "crisisflow"  # the author of the statements drafted from the template
INTERNAL_MAX_LENGTH = 5000  # an email to staff or partners


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
    participants: list[str] = Field(
        default_factory=list, description="A drill's named participants (the org chart holds only them); empty: the whole team."
    )
    declared_via: str | None = None
    playbook: Playbook
    org: OrgChart
    template: str = Field(description="Statement template source in the incident's language.")
    answers: list[PinnedAnswer] = Field(
        default_factory=list, description="The playbook's answers kit in the incident's language."
    )
    detection: DetectionOrigin | None = Field(None, description="Set when the incident was opened from a mention surge.")
    fact_sheet: FactSheetFields | None = Field(
        None, description="The public fact sheet given at declaration (a public headline, say)."
    )
    internal_templates: dict[str, str] = Field(
        default_factory=dict, description="Each internal audience's template source in the incident's language, by audience id."
    )
    continued: "Continuation | None" = Field(
        None, description="What the workflow run before this one carried over (continue-as-new); None when declared."
    )


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
    fallback: bool = Field(
        False, description="The playbook's pre-approved holding statement, published when approvals did not arrive in time."
    )
    promise: datetime | None = Field(
        None, description="The next update this text promises the public; once published, the next update is due then."
    )
    receipts: list[Receipt] = Field(default_factory=list)
    mismatch: bool = Field(False, description="A channel received text whose hash differs from the approved one.")
    variants: list[Variant] = Field(
        default_factory=list,
        description="The statement for each channel, measured against its limit; approval covers the whole set.",
    )
    fact_sheet_version: int | None = Field(
        None, description="The public fact sheet's version when this statement was drafted (0: empty)."
    )
    changed: list[str] = Field(default_factory=list, description="Fact sheet fields changed since the last published statement.")
    repeats: int | None = Field(
        None, description="The published version this one says nothing new against (flagged before approval)."
    )
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
    kind: EventKind
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


class Decided(BaseModel):
    person: str
    roles: list[str]
    decision: str
    waited: timedelta = Field(description="From the version being drafted to this person's decision.")


class ApprovalRound(BaseModel):
    """One statement version put to the approvers."""

    version: int
    kind: str
    outcome: str
    decisions: list[Decided]
    lasted: timedelta | None = Field(None, description="From drafted to approved or rejected.")


class ApproverTotals(BaseModel):
    """One approver's decisions on statements an earlier run dropped, summed (a mean is not additive)."""

    person: str
    decisions: int
    total_wait: timedelta
    longest_wait: timedelta


class EarlierRuns(BaseModel):
    """What the incident's earlier workflow runs leave to the current one when it continues as new
    (workflows/incident.py): the counts that keep timeline and statement numbers going, and the few
    facts later statements need. Their records are not carried: every timeline event is in the
    read model, and the state keeps the recent ones."""

    runs: int = Field(0, description="Workflow runs before the current one.")
    events: int = Field(0, description="Timeline events dropped from the front of the timeline (they are in the read model).")
    statements: int = Field(0, description="Statement versions dropped from the front of the list.")
    threads: dict[str, str] = Field(default_factory=dict, description="Each target's first post, which later statements answer.")
    first_published_at: datetime | None = None
    reply_surges: list[str] = Field(
        default_factory=list, description="Signals of the reply surges on the dropped part of the timeline."
    )
    approval_rounds: list[ApprovalRound] = Field(
        default_factory=list,
        description="The latest approval rounds of the dropped statements, for the post-incident review (at most KEEP_ROUNDS).",
    )
    rounds_not_kept: int = Field(
        0, description="Approval rounds of dropped statements older than those kept: counted, not listed."
    )
    approver_waits: list[ApproverTotals] = Field(
        default_factory=list, description="Each approver's decisions on the dropped statements, for the review."
    )


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
    feedback_requested: list[str] = Field(
        default_factory=list, description="Everyone asked for feedback by link during the review."
    )
    feedback: list[FeedbackRecord] = Field(default_factory=list)
    closed_at: datetime | None = None
    deadlines: dict[str, Deadline] = Field(default_factory=dict)
    next_update_due: datetime | None = None
    holding_started_at: datetime | None = Field(
        None,
        description=(
            "When the holding statement went to approval at the playbook's holding point, before the assessment and checklist"
            " were done."
        ),
    )
    answer_versions: list[AnswerVersion] = Field(default_factory=list)
    timeline: list[TimelineEvent] = Field(default_factory=list)
    revision: int = 0
    detection: DetectionOrigin | None = None
    fact_sheet: FactSheet = Field(
        default_factory=FactSheet, description="What the public may read: the only input of statement templates."
    )
    fact_sheet_versions: list[FactSheetVersion] = Field(default_factory=list)
    internal_messages: list[InternalVersion] = Field(
        default_factory=list, description="Messages to the playbook's internal audiences (staff, partners), every version."
    )
    earlier: EarlierRuns = Field(
        default_factory=EarlierRuns, description="What earlier workflow runs of a long incident left behind."
    )


class Continuation(BaseModel):
    """What a long incident's workflow run carries into the next when it continues as new
    (:mod:`domain.continuation` trims the state)."""

    state: IncidentState
    public_voice: bool = True
    data_errors_shown: list[str] = Field(default_factory=list, description="Steps whose refused data is on the timeline already.")
    task_escalations: dict[str, datetime | None] = Field(
        default_factory=dict,
        description=(
            "Overdue tasks already reminded of: when each passes to the next person (None: it has passed through its whole role)."
        ),
    )


IncidentPlan.model_rebuild()
