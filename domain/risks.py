"""The risk register and the answers kit: the preparedness half of the crisis plan, as data.

``playbooks/risks.yaml`` lists the threats the company faces, how likely and how damaging each is,
who is exposed, who owns it, which playbook answers it and how often it deserves a drill.
``playbooks/answers/<playbook>.yaml`` holds pre-approved answers to the questions the public asks
first, in English and Polish. Both are validated by :func:`domain.catalog.load_catalog`.
"""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.durations import Duration
from domain.factsheet import FIELDS as FACT_SHEET_FIELDS
from domain.playbook import Scenario

_IDENT = r"^[a-z][a-z0-9_]*$"
SCALE = range(1, 6)  # likelihood and impact are both rated 1 (lowest) to 5 (highest)
ANSWER_LANGUAGES = ["en", "pl"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Band(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


# Upper bounds of each band on the 1..25 priority scale of a 5 x 5 matrix.
BANDS: tuple[tuple[int, Band], ...] = ((4, Band.LOW), (9, Band.MEDIUM), (16, Band.HIGH), (25, Band.CRITICAL))


def band_of(priority: int) -> Band:
    """low 1–4, medium 5–9, high 10–16, critical 20–25 (only 4×5, 5×4 and 5×5 are critical)."""
    for upper, band in BANDS:
        if priority <= upper:
            return band
    raise ValueError(f"priority {priority} is outside 1..25")


class Risk(Strict):
    id: str = Field(pattern=_IDENT, description="Unique identifier, for example checkout_outage.")
    title: str = Field(min_length=1, description="A short name, shown on the heat map and in tables.")
    scenario: Scenario = Field(description="The scenario family; must be the scenario of the playbook.")
    description: str = Field(min_length=1, description="What could happen and why it would hurt.")
    likelihood: int = Field(ge=1, le=5, description="1 rare, 2 unlikely, 3 possible, 4 likely, 5 almost certain (in a year).")
    impact: int = Field(ge=1, le=5, description="Impact on reputation: 1 negligible … 5 severe and lasting.")
    audiences: list[str] = Field(min_length=1, description="Who is affected or watching: customers, franchise partners, press…")
    owner: str = Field(description="The role that owns the risk and its readiness (a role of team.yaml).")
    playbook: str = Field(pattern=_IDENT, description="The playbook that answers the risk.")
    drill_every: Duration = Field(description="The longest acceptable gap between drills of this risk's playbook, e.g. 90d.")

    @property
    def priority(self) -> int:
        return self.likelihood * self.impact

    @property
    def band(self) -> Band:
        return band_of(self.priority)


class RiskRegister(Strict):
    risks: list[Risk] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> "RiskRegister":
        ids = [risk.id for risk in self.risks]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"risks: ids must be unique, repeated: {', '.join(duplicates)}")
        return self


class Release(Strict):
    """What establishes the fact an answer asserts: a task done, or a field of the public fact
    sheet filled in. The answer waits until then."""

    task: str | None = Field(
        None, pattern=_IDENT, description="The playbook's task whose completion establishes the fact (respond.tasks id)."
    )
    fact: str | None = Field(None, description="The public fact sheet's field that states it (remedy, what_happened…).")

    @field_validator("fact")
    @classmethod
    def _a_fact_sheet_field(cls, value: str | None) -> str | None:
        if value is not None and value not in FACT_SHEET_FIELDS:
            raise ValueError(f"unknown fact sheet field '{value}' (the sheet has: {', '.join(FACT_SHEET_FIELDS)})")
        return value

    @model_validator(mode="after")
    def _one(self) -> "Release":
        if (self.task is None) == (self.fact is None):
            raise ValueError("give either task (a respond task id) or fact (a fact sheet field), not both or neither")
        return self


class Answer(Strict):
    """One question the public asks first, with the pre-approved reply, per language."""

    id: str = Field(pattern=_IDENT)
    question: dict[str, str] = Field(description="The question as people ask it, per language code.")
    answer: dict[str, str] = Field(description="The approved reply, per language code.")
    released_by: Release | None = Field(
        None,
        description='For an answer that asserts a fact ("the claim is false", "refunded within 5 days"): the task that '
        "establishes it. Until that task is done the answer is held: not for use, and not to be adapted.",
    )


class AnswerKit(Strict):
    languages: list[str] = Field(default_factory=lambda: list(ANSWER_LANGUAGES), min_length=1)
    answers: list[Answer] = Field(min_length=1)

    @model_validator(mode="after")
    def _complete(self) -> "AnswerKit":
        ids = [a.id for a in self.answers]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"answers: ids must be unique, repeated: {', '.join(duplicates)}")
        return self

    def gaps(self) -> list[tuple[str, str]]:
        """``(path, reason)`` for every question or answer missing or empty in a declared language."""
        found = []
        for index, item in enumerate(self.answers):
            for part in ("question", "answer"):
                texts = getattr(item, part)
                for language in self.languages:
                    if not texts.get(language, "").strip():
                        found.append((f"answers.{index}.{part}.{language}", f"missing the '{language}' text"))
                for language in texts:
                    if language not in self.languages:
                        found.append((f"answers.{index}.{part}.{language}", f"'{language}' is not in languages {self.languages}"))
        return found

    def in_language(self, language: str) -> list[tuple[str, str]]:
        """``(question, answer)`` pairs in one language, in the kit's order."""
        return [(a.question.get(language, ""), a.answer.get(language, "")) for a in self.answers]
