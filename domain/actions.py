"""What people send to an incident: the bodies of the API's action routes and the arguments of the
workflow's Updates (the same models, so a field means the same thing on both sides)."""

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from domain.severity import Level, Severity

PersonId = Field(min_length=1, max_length=100, description="Id of the person acting (from the team roster).")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Action(Strict):
    # Set by the server from the credential, never taken from the caller (the API overwrites it);
    # None in histories recorded before it existed, so they replay unchanged.
    via: SkipJsonSchema[str | None] = Field(None, max_length=120, description="How the action arrived: API key, link, SMS reply.")


class Acknowledge(Action):
    person: str = PersonId


class Assessment(Action):
    person: str = PersonId
    severity: Severity | None = Field(
        None, description="Omit to derive it from impact and reach with the severity matrix."
    )
    impact: Level | None = None
    reach: Level | None = None
    answers: dict[str, str] = Field(default_factory=dict, description="Answers by question id.")
    facts: list[str] = Field(default_factory=list, max_length=50, description="Verified facts only.")
    rumours: list[str] = Field(default_factory=list, max_length=50, description="Claims circulating but not verified.")
    audiences: list[str] = Field(default_factory=list, max_length=50)


class TaskCompletion(Action):
    person: str = PersonId
    note: str | None = Field(None, max_length=2000)


class StatementDraft(Action):
    person: str = PersonId
    text: str = Field(min_length=1, max_length=5000)


class Verdict(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class StatementDecision(Action):
    person: str = PersonId
    decision: Verdict
    comment: str | None = Field(None, max_length=2000)


class Resolution(Action):
    person: str = PersonId
    summary: str = Field(min_length=1, max_length=5000)


class ActionItem(Strict):
    title: str = Field(min_length=1, max_length=300)
    owner: str = Field(min_length=1, max_length=100, description="Person id or role responsible.")
    due: date | None = None


class ReviewSubmission(Action):
    person: str = PersonId
    summary: str = Field(min_length=1, max_length=10000)
    went_well: list[str] = Field(default_factory=list, max_length=50)
    went_badly: list[str] = Field(default_factory=list, max_length=50)
    action_items: list[ActionItem] = Field(default_factory=list, max_length=100)
