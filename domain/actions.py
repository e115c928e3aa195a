"""What people send to an incident: the bodies of the API's action routes and the inputs of the
workflow's Updates (the same models, so a field means the same thing on both sides).

Every Update takes exactly one of these. Where the API names what is acted on in the path (a task,
a statement version, an answer, an internal audience), the Update's input is the body with those
identifiers added (:class:`TaskDone`, :class:`DecideStatement`…), built by the route."""

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from domain.factsheet import FactSheetFields
from domain.safe_text import LongText, OneLine, long_text, one_line
from domain.severity import Level, Severity

PersonId = Field(min_length=1, max_length=100, description="Id of the person acting (from the team roster).")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Action(Strict):
    # Set by the server from the credential, never taken from the caller (the API overwrites it);
    # None in histories recorded before it existed, so they replay unchanged.
    via: SkipJsonSchema[one_line(max_length=120) | None] = Field(
        None, description="How the action arrived: API key, link, SMS reply."
    )
    # Set by the API too: the digests of the incident's view parts it holds (domain/view_delta.py), so
    # the Update answers with the incident as the parts that changed. None: the Update answers without it.
    known: SkipJsonSchema[dict[str, str] | None] = Field(None, description="The view parts the caller holds, by digest.")


class Acknowledge(Action):
    person: OneLine = PersonId


class Assessment(Action):
    person: OneLine = PersonId
    severity: Severity | None = Field(None, description="Omit to derive it from impact and reach with the severity matrix.")
    impact: Level | None = None
    reach: Level | None = None
    answers: dict[OneLine, LongText] = Field(default_factory=dict, description="Answers by question id.")
    facts: list[OneLine] = Field(default_factory=list, max_length=50, description="Verified facts only.")
    rumours: list[OneLine] = Field(default_factory=list, max_length=50, description="Claims circulating but not verified.")
    audiences: list[OneLine] = Field(default_factory=list, max_length=50)
    fact_sheet: FactSheetFields | None = Field(
        None, description="Public facts the assessment establishes: fills the incident's public fact sheet."
    )


class Reassessment(Action):
    """The commander raises or lowers the severity after the assessment, until the incident is closed."""

    person: OneLine = PersonId
    severity: Severity
    reason: LongText = Field(
        min_length=1, max_length=1000, description="Why: everyone paged and every stakeholder group is told."
    )


class TaskCompletion(Action):
    person: OneLine = PersonId
    note: long_text(max_length=2000) | None = None


STATEMENT_TEXT = Field(
    min_length=1, max_length=5000, description="The statement: the long form (status page, email, LinkedIn, Instagram)."
)
STATEMENT_SHORT = Field(
    None, description="The short form (X, Bluesky, Mastodon, Threads, SMS); defaults to text, which must then fit them."
)
STATEMENT_TITLE = Field(
    None,
    description=(
        "The status page's incident name and the email's subject; defaults to the last statement's title, the fact sheet's"
        " headline, then the text's first line."
    ),
)


class TaskDone(TaskCompletion):
    """The ``task_done`` Update: a task of the checklist is done."""

    task_id: str = Field(min_length=1, max_length=100, description="The playbook's id of the task.")


class StatementDraft(Action):
    person: OneLine = PersonId
    text: LongText = STATEMENT_TEXT
    short: long_text(max_length=1000, min_length=1) | None = STATEMENT_SHORT
    title: one_line(max_length=200, min_length=1) | None = STATEMENT_TITLE


class StatementPreview(Strict):
    """A draft as the statement editor holds it while someone types: what each channel would
    publish and how it counts, before anything is sent (the fields mean what StatementDraft's do)."""

    text: LongText = STATEMENT_TEXT
    short: long_text(max_length=1000, min_length=1) | None = STATEMENT_SHORT
    title: one_line(max_length=200, min_length=1) | None = STATEMENT_TITLE


class FactSheetEdit(Action):
    """An edit of the public fact sheet, by the comms lead or the commander."""

    person: OneLine = PersonId
    fields: FactSheetFields = Field(
        description="The fields to change: omitted ones stay as they are, an empty string clears one."
    )


class Verdict(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class StatementDecision(Action):
    """An approver's decision: on a statement version, an answer proposal or an internal message."""

    person: OneLine = PersonId
    decision: Verdict
    comment: long_text(max_length=2000) | None = None


def _key(description: str | None = None):
    """An id the playbook gives (an answer of its kit, an internal audience)."""
    return Field(min_length=1, max_length=100, description=description)


class VersionDecision(StatementDecision):
    """A decision on one version: the Updates' input, with the version the API takes from its path."""

    version: int = Field(description="The version decided on, as the approval request named it.")


class DecideStatement(VersionDecision):
    """The ``decide_statement`` Update: a decision on one version of the public statement."""


class AnswerDraft(Action):
    person: OneLine = PersonId
    text: LongText = Field(min_length=1, max_length=5000, description="The reply the team gives, in the incident's language.")
    question: one_line(min_length=1, max_length=500) | None = Field(
        None,
        description="The question as people ask it: needed to add a new answer, optional to reword a kit answer's question.",
    )


class ProposeAnswer(AnswerDraft):
    """The ``propose_kit_answer`` Update: a new version of one answer of the kit (or a new answer)."""

    answer_id: str = _key("The answer's id in the kit, or a new one.")


class DecideAnswer(VersionDecision):
    """The ``decide_kit_answer`` Update: a decision on one version of an answer of the kit."""

    answer_id: str = _key()


class InternalDraft(Action):
    """A revision of the message to an internal audience (staff, partners): one text, emailed as it is."""

    person: OneLine = PersonId
    text: LongText = Field(min_length=1, max_length=5000, description="The message, in the incident's language.")


class ReviseInternal(InternalDraft):
    """The ``revise_internal`` Update: a new version of one internal audience's message."""

    audience: str = _key("The playbook's id of the internal audience.")


class DecideInternal(VersionDecision):
    """The ``decide_internal_message`` Update: a decision on one version of an internal audience's message."""

    audience: str = _key()


class Resolution(Action):
    person: OneLine = PersonId
    summary: LongText = Field(min_length=1, max_length=5000)


class ActionItem(Strict):
    title: OneLine = Field(min_length=1, max_length=300)
    owner: OneLine = Field(min_length=1, max_length=100, description="Person id or role responsible.")
    due: date | None = None
    playbook_section: one_line(max_length=200) | None = Field(
        None, description="The part of the playbook to change, like respond.tasks.confirm_scope or communicate.approvers."
    )


class ReviewSubmission(Action):
    person: OneLine = PersonId
    summary: LongText = Field(min_length=1, max_length=10000)
    went_well: list[LongText] = Field(default_factory=list, max_length=50)
    went_badly: list[LongText] = Field(default_factory=list, max_length=50)
    action_items: list[ActionItem] = Field(default_factory=list, max_length=100)


class FeedbackSubmission(Action):
    person: OneLine = PersonId
    rating: int = Field(ge=1, le=5, description="How well the response went, 1 (badly) to 5 (very well).")
    went_well: long_text(max_length=5000) | None = None
    went_badly: long_text(max_length=5000) | None = None
