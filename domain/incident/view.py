"""The incident as people read it: what waits on whom and by when, and the API's view."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from domain.actions import Assessment, ReviewSubmission
from domain.incident.state import (
    ACTIVE_PHASES,
    AnswerVersion,
    IncidentState,
    Phase,
    RoleAcknowledgement,
    StatementStatus,
)
from domain.playbook import Question


class PendingKind(StrEnum):
    """What a pending item asks of its people."""

    ACKNOWLEDGE = "acknowledge"
    ASSESSMENT = "assessment"
    TASK = "task"
    APPROVAL = "approval"
    STATEMENT_DRAFT = "statement_draft"
    ANSWER_APPROVAL = "answer_approval"
    ANSWER_DRAFT = "answer_draft"
    INTERNAL_APPROVAL = "internal_approval"
    INTERNAL_DRAFT = "internal_draft"
    RESOLVE = "resolve"
    REVIEW = "review"
    FEEDBACK = "feedback"


# The view is answered, never sent: in its JSON schema a field with a default is still always there.
ANSWERED = ConfigDict(json_schema_serialization_defaults_required=True)


class Waiting(BaseModel):
    """Something waiting on people: what, who (person ids, the first one asked first) and by when."""

    model_config = ANSWERED

    title: str
    people: list[str]
    due_at: datetime | None = Field(None, description="When it is due; none for what has no deadline of its own.")


class AcknowledgeItem(Waiting):
    kind: Literal[PendingKind.ACKNOWLEDGE] = PendingKind.ACKNOWLEDGE
    role: str


class AssessmentItem(Waiting):
    kind: Literal[PendingKind.ASSESSMENT] = PendingKind.ASSESSMENT
    questions: list[Question] = Field(description="The playbook's assessment questions.")


class TaskItem(Waiting):
    kind: Literal[PendingKind.TASK] = PendingKind.TASK
    task_id: str


class ApprovalItem(Waiting):
    kind: Literal[PendingKind.APPROVAL] = PendingKind.APPROVAL
    version: int
    role: str


class StatementDraftItem(Waiting):
    kind: Literal[PendingKind.STATEMENT_DRAFT] = PendingKind.STATEMENT_DRAFT
    version: int = Field(description="The version its approvers sent back.")


class NumberedApproval(Waiting):
    """A version waiting on an approver role, under the incident-wide number its emailed link names."""

    version: int
    number: int = Field(
        description="The incident-wide number (of the answer proposal or the internal message) an approval link names."
    )
    role: str


class AnswerApprovalItem(NumberedApproval):
    kind: Literal[PendingKind.ANSWER_APPROVAL] = PendingKind.ANSWER_APPROVAL
    answer_id: str


class AnswerDraftItem(Waiting):
    kind: Literal[PendingKind.ANSWER_DRAFT] = PendingKind.ANSWER_DRAFT
    answer_id: str
    version: int


class InternalApprovalItem(NumberedApproval):
    kind: Literal[PendingKind.INTERNAL_APPROVAL] = PendingKind.INTERNAL_APPROVAL
    audience: str


class InternalDraftItem(Waiting):
    kind: Literal[PendingKind.INTERNAL_DRAFT] = PendingKind.INTERNAL_DRAFT
    audience: str
    version: int


class ResolveItem(Waiting):
    kind: Literal[PendingKind.RESOLVE] = PendingKind.RESOLVE


class ReviewItem(Waiting):
    kind: Literal[PendingKind.REVIEW] = PendingKind.REVIEW


class FeedbackItem(Waiting):
    kind: Literal[PendingKind.FEEDBACK] = PendingKind.FEEDBACK


PendingItem = Annotated[
    AcknowledgeItem
    | AssessmentItem
    | TaskItem
    | ApprovalItem
    | StatementDraftItem
    | AnswerApprovalItem
    | AnswerDraftItem
    | InternalApprovalItem
    | InternalDraftItem
    | ResolveItem
    | ReviewItem
    | FeedbackItem,
    Field(discriminator="kind"),
]
"""One thing waiting on people; ``kind`` says which, and which fields it has."""


class DeadlineStatus(StrEnum):
    OPEN = "open"
    MET = "met"
    MISSED = "missed"
    OVERDUE = "overdue"
    WAIVED = "waived"
    MOOT = "moot"


class DeadlineView(BaseModel):
    """A deadline with where it stands now (:meth:`Deadline.status`)."""

    model_config = ANSWERED

    name: str
    label: str
    due_at: datetime
    met_at: datetime | None = None
    waived: bool = False
    status: DeadlineStatus


class AnswerHold(BaseModel):
    """Why a kit answer is held: the task, or the public fact sheet field, that establishes what it asserts."""

    task: str | None = None
    fact: str | None = None
    title: str
    status: str = Field(
        description="The task's status ('not started' before the respond phase), or 'empty' for a fact sheet field."
    )
    why: str


class AnswerSource(StrEnum):
    PLAYBOOK = "playbook"
    INCIDENT = "incident"
    PROPOSED = "proposed"


class KitAnswer(BaseModel):
    """One answer of the incident's kit as the people replying should use it now."""

    model_config = ANSWERED

    id: str
    question: str | None
    text: str | None = Field(description="What to reply; none while the answer is held or was never approved.")
    version: int | None
    source: AnswerSource = Field(
        description="playbook: the kit's own text; incident: a version approved for this incident; proposed: none approved yet."
    )
    approved_by: list[str] = Field(default_factory=list)
    released: bool = True
    waiting_for: AnswerHold | None = None
    held_text: str | None = Field(None, description="The kit's text of a held answer, for reading only.")
    proposal: AnswerVersion | None = Field(None, description="The version in approval, or sent back for changes.")


class IncidentStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class AssessmentRecord(Assessment):
    """The assessment as the view shows it, with how it arrived (which a request never sets)."""

    model_config = ConfigDict(extra="ignore")
    via: str | None = Field(None, description="How the assessment arrived: API key, link, SMS reply.")


class ReviewRecord(ReviewSubmission):
    """The post-incident review as the view shows it, with how it arrived."""

    model_config = ConfigDict(extra="ignore")
    via: str | None = Field(None, description="How the review arrived: API key, link.")


class IncidentView(IncidentState):
    """The incident as the API, the pages and the ``state`` query show it: its state, with its
    acknowledgements and deadlines as lists, everything waiting on people and the answers kit."""

    model_config = ANSWERED

    status: IncidentStatus
    acknowledgements: list[RoleAcknowledgement] = Field(default_factory=list)
    deadlines: list[DeadlineView] = Field(default_factory=list)
    pending: list[PendingItem] = Field(default_factory=list, description="Everything waiting on a person, with who and by when.")
    assessment: AssessmentRecord | None = None
    review: ReviewRecord | None = None
    answers_kit: list[KitAnswer] = Field(default_factory=list)
    revision: SkipJsonSchema[int] = Field(0, exclude=True)


class View:
    def pending(self, now: datetime) -> list[PendingItem]:
        items: list[PendingItem] = []
        if self.closed:
            return items
        deadlines = self.state.deadlines

        def due(name: str) -> datetime | None:
            deadline = deadlines.get(name)
            return deadline.due_at if deadline else None

        for role, ack in self.state.acknowledgements.items():
            if ack.acknowledged_by is None and (ack.pages or self.phase is Phase.IDENTIFY):
                items.append(
                    AcknowledgeItem(
                        role=role,
                        people=self.members(role),
                        due_at=due(f"acknowledge.{role}"),
                        title=f"Acknowledge the page as {role}",
                    )
                )
        commanders = self.members(self.commander_role)
        if self.phase is Phase.ASSESS and self.state.assessment is None:
            items.append(
                AssessmentItem(
                    people=commanders,
                    due_at=due("assessment"),
                    title="Assess impact, reach and severity",
                    questions=self.playbook.assess.questions,
                )
            )
        for task in self.open_tasks():
            people = [task.assignee] + [p for p in self.members(task.owner) + commanders if p != task.assignee]
            items.append(TaskItem(task_id=task.id, people=list(dict.fromkeys(people)), due_at=task.due_at, title=task.title))
        if self.statements_open():
            current = self.in_flight()
            statement_due = due("first_statement") if not self.published() else self.state.next_update_due
            authors = list(dict.fromkeys(self.members(self.playbook.communicate.author) + commanders))
            if current and current.status is StatementStatus.PENDING_APPROVAL:
                for role, deciders in self.awaiting_decision(current):
                    items.append(
                        ApprovalItem(
                            version=current.version,
                            role=role,
                            people=deciders,
                            due_at=statement_due,
                            title=f"Approve statement v{current.version} as {role}",
                        )
                    )
            elif current and current.status is StatementStatus.REJECTED:
                items.append(
                    StatementDraftItem(
                        version=current.version,
                        people=authors,
                        due_at=statement_due,
                        title=f"Revise statement v{current.version} (changes requested)",
                    )
                )
        items += self.pending_answers()
        items += self.pending_internal()
        if self.phase in ACTIVE_PHASES and not self.resolved:
            items.append(ResolveItem(people=commanders, title="Resolve the incident when it is over"))
        if self.phase is Phase.REVIEW and self.state.review is None:
            items.append(ReviewItem(people=commanders, due_at=due("review"), title="Submit the post-incident review"))
            if awaiting := self.awaiting_feedback():
                items.append(
                    FeedbackItem(
                        people=awaiting,
                        due_at=due("review"),
                        title="Give feedback on the response (1–5, what went well and badly)",
                    )
                )
        return items

    def view(self, now: datetime) -> IncidentView:
        """The incident as the API, the pages and the ``state`` query show it."""
        state = self.state
        resolved_at = state.resolution.at if state.resolution else None
        shown_as_is = [
            name
            for name in IncidentState.model_fields
            if name not in ("acknowledgements", "deadlines", "revision", "assessment", "review")
        ]
        return IncidentView(
            **{name: getattr(state, name) for name in shown_as_is},
            assessment=AssessmentRecord.model_validate(state.assessment.model_dump()) if state.assessment else None,
            review=ReviewRecord.model_validate(state.review.model_dump()) if state.review else None,
            status=IncidentStatus.CLOSED if self.closed else IncidentStatus.OPEN,
            acknowledgements=list(state.acknowledgements.values()),
            deadlines=[DeadlineView(**dict(d), status=d.status(now, resolved_at, self.closed)) for d in state.deadlines.values()],
            pending=self.pending(now),
            answers_kit=self.answers_kit(),
        )
