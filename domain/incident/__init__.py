"""An incident's state and the rules for changing it.

Plain Python with no Temporal import: the workflow owns one :class:`Incident`, calls the
``check_*`` methods from its Update validators (a :class:`Rejected` there writes nothing to
history) and the matching methods from the handlers and timers. Every change appends a timeline
event and bumps ``revision``, which is what the workflow waits on.

The rules are split by concept, one module each, and :class:`Incident` puts them together:
``state`` (the models), ``core`` (roles, guards, deadlines, the timeline), ``paging``, ``tasks``,
``facts`` (the public fact sheet), ``approval`` (the one approval rule for statements, answers and
internal messages), ``statements``, ``answers`` (the answers kit), ``internal``, ``notices``,
``phases`` and ``view``.
"""

from domain.incident.answers import Answers
from domain.incident.approval import Approval
from domain.incident.core import IncidentCore
from domain.incident.facts import Facts
from domain.incident.internal import InternalMessages
from domain.incident.notices import Notices
from domain.incident.paging import Paging
from domain.incident.phases import Phases
from domain.incident.state import (
    ACTIVE_PHASES,
    INTERNAL_MAX_LENGTH,
    SYSTEM_AUTHOR,
    AnswerStatus,
    AnswerVersion,
    Continuation,
    Deadline,
    Decision,
    EarlierRuns,
    FeedbackRecord,
    IncidentPlan,
    IncidentState,
    InternalStatus,
    InternalVersion,
    Page,
    Phase,
    Receipt,
    Rejected,
    ResolutionRecord,
    RoleAcknowledgement,
    StatementStatus,
    StatementVersion,
    TaskState,
    TaskStatus,
    TimelineEvent,
    text_diff,
    text_sha256,
)
from domain.incident.statements import Statements
from domain.incident.tasks import Tasks
from domain.incident.view import (
    AcknowledgeItem,
    AnswerApprovalItem,
    AnswerDraftItem,
    AnswerHold,
    AnswerSource,
    ApprovalItem,
    AssessmentItem,
    AssessmentRecord,
    DeadlineStatus,
    DeadlineView,
    FeedbackItem,
    IncidentStatus,
    IncidentView,
    InternalApprovalItem,
    InternalDraftItem,
    KitAnswer,
    PendingItem,
    PendingKind,
    ResolveItem,
    ReviewItem,
    ReviewRecord,
    StatementDraftItem,
    TaskItem,
    View,
    Waiting,
)


class Incident(Paging, Tasks, Facts, Approval, Statements, Answers, InternalMessages, Notices, Phases, View, IncidentCore):
    """One incident's rules over its :class:`IncidentState` (``state``), built from the plan."""


__all__ = [
    "ACTIVE_PHASES",
    "AcknowledgeItem",
    "AnswerApprovalItem",
    "AnswerDraftItem",
    "AnswerHold",
    "AnswerSource",
    "AnswerStatus",
    "AnswerVersion",
    "ApprovalItem",
    "AssessmentItem",
    "AssessmentRecord",
    "Continuation",
    "Deadline",
    "DeadlineStatus",
    "DeadlineView",
    "Decision",
    "EarlierRuns",
    "FeedbackItem",
    "FeedbackRecord",
    "INTERNAL_MAX_LENGTH",
    "Incident",
    "IncidentPlan",
    "IncidentState",
    "IncidentStatus",
    "IncidentView",
    "InternalApprovalItem",
    "InternalDraftItem",
    "InternalStatus",
    "InternalVersion",
    "KitAnswer",
    "Page",
    "PendingItem",
    "PendingKind",
    "Phase",
    "Receipt",
    "Rejected",
    "ResolutionRecord",
    "ResolveItem",
    "ReviewItem",
    "ReviewRecord",
    "RoleAcknowledgement",
    "SYSTEM_AUTHOR",
    "StatementDraftItem",
    "StatementStatus",
    "StatementVersion",
    "TaskItem",
    "TaskState",
    "TaskStatus",
    "TimelineEvent",
    "Waiting",
    "text_diff",
    "text_sha256",
]
