"""The kinds of event an incident's timeline records.

One name for each thing that can happen to an incident, written by :mod:`domain.incident` and read
by the workflow, the read model, the chat mirror, the report's chart and the pages. A ``StrEnum``:
on the wire (queries, projections, the database, the API) a kind is the same string it always was,
so recorded histories and stored timelines read back unchanged.
"""

from enum import StrEnum


class EventKind(StrEnum):
    DECLARED = "declared"
    PHASE_CHANGED = "phase_changed"
    # identify: pages and their escalation
    PAGED = "paged"
    PAGE_WITHDRAWN = "page_withdrawn"
    PAGE_UNANSWERED = "page_unanswered"
    ESCALATION_EXHAUSTED = "escalation_exhausted"
    ACKNOWLEDGED = "acknowledged"
    # notices and data the edges did not take
    DELIVERY_FAILED = "delivery_failed"
    NOTICE_FAILED = "notice_failed"
    DATA_ERROR = "data_error"
    # assess
    ASSESSED = "assessed"
    SEVERITY_CHANGED = "severity_changed"
    FACT_SHEET_EDITED = "fact_sheet_edited"
    # respond
    TASK_ASSIGNED = "task_assigned"
    TASK_REMINDED = "task_reminded"
    TASK_ESCALATED = "task_escalated"
    TASK_COMPLETED = "task_completed"
    TASK_CANCELLED = "task_cancelled"
    OBLIGATION_WAIVED = "obligation_waived"
    # communicate: statements
    HOLDING_ON_TIME = "holding_on_time"
    STATEMENT_DRAFTED = "statement_drafted"
    DRAFT_FAILED = "draft_failed"  # the playbook's template could not render a statement or message
    STATEMENT_OVER_LIMIT = "statement_over_limit"
    STATEMENT_REPEATS = "statement_repeats"
    STATEMENT_REJECTED = "statement_rejected"
    STATEMENT_APPROVED_BY = "statement_approved_by"
    STATEMENT_APPROVED = "statement_approved"
    APPROVAL_ESCALATED = "approval_escalated"
    FALLBACK_STATEMENT = "fallback_statement"
    PUBLICATION_FAILED = "publication_failed"
    PUBLICATION_MISMATCH = "publication_mismatch"
    STATEMENT_PUBLISHED = "statement_published"
    STATEMENT_WITHDRAWN = "statement_withdrawn"
    REPLY_SURGE = "reply_surge"  # a surge of negative replies to a published statement
    # communicate: the answers kit
    ANSWER_RELEASED = "answer_released"
    ANSWER_PROPOSED = "answer_proposed"
    ANSWER_REJECTED = "answer_rejected"
    ANSWER_APPROVED_BY = "answer_approved_by"
    ANSWER_APPROVED = "answer_approved"
    # communicate: internal audiences
    INTERNAL_DRAFTED = "internal_drafted"
    INTERNAL_REJECTED = "internal_rejected"
    INTERNAL_APPROVED_BY = "internal_approved_by"
    INTERNAL_APPROVED = "internal_approved"
    INTERNAL_SENT = "internal_sent"
    INTERNAL_WITHDRAWN = "internal_withdrawn"
    # around the flow
    STAKEHOLDERS_BRIEFED = "stakeholders_briefed"
    SCHEDULERS_TOLD = "schedulers_told"
    REMINDER_SENT = "reminder_sent"
    DEADLINE_MISSED = "deadline_missed"
    RESOLVED = "resolved"
    # review
    REVIEW_SUBMITTED = "review_submitted"
    FEEDBACK_REQUESTED = "feedback_requested"
    FEEDBACK_RECEIVED = "feedback_received"
