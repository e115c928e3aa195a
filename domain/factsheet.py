"""The public fact sheet: what the public may read about an incident, kept apart from its internal
title, summary and detection evidence.

Statement templates see only these fields (with the organisation and the times), so nothing the
team wrote for itself can reach a public channel. The comms lead edits the sheet through an Update
(versioned, on the timeline); the assessment may fill it. Every field may be empty: a template
then says only what is true of any incident of its kind (the playbook's pre-approved wording).
"""

from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from domain.lenient import Authored
from domain.safe_text import OneLine, long_text, one_line


def _public_url(value: str) -> str:
    if not value:
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
        raise ValueError("must be an absolute http(s) URL, like https://status.example.com")
    if parts.username or parts.password:
        raise ValueError("must not carry a user name or password")
    return value


PublicUrl = Annotated[OneLine, Field(max_length=300), AfterValidator(_public_url)]


class FactSheetFields(Authored):
    """The fields and their limits; an edit gives any of them (omitted: unchanged, "": cleared)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    headline: one_line(max_length=90) | None = Field(None, description="One public line: what is wrong, in the audience's words.")
    what_happened: long_text(max_length=600) | None = Field(None, description="What happened, as far as it is confirmed.")
    who_is_affected: long_text(max_length=300) | None = Field(None, description="Who is affected (and who is not).")
    what_we_are_doing: long_text(max_length=600) | None = Field(None, description="What the organisation is doing about it.")
    what_to_do: long_text(max_length=400) | None = Field(None, description="What people should do (or need not do).")
    remedy: long_text(max_length=600) | None = Field(
        None, description="What the organisation offers to put it right (refund, credit…)."
    )
    status_page: PublicUrl | None = Field(None, description="The status page people should follow.")
    faq: PublicUrl | None = Field(None, description="The questions-and-answers page, if there is one.")


FIELDS = tuple(FactSheetFields.model_fields)


class FactSheet(BaseModel):
    """The current public facts; "" where nothing is known or said yet."""

    model_config = ConfigDict(frozen=True)

    headline: str = ""
    what_happened: str = ""
    who_is_affected: str = ""
    what_we_are_doing: str = ""
    what_to_do: str = ""
    remedy: str = ""
    status_page: str = ""
    faq: str = ""

    def edited(self, fields: FactSheetFields) -> "FactSheet":
        given = {name: value for name, value in fields.model_dump(exclude_unset=True).items() if value is not None}
        return self.model_copy(update=given)

    def changed_fields(self, other: "FactSheet") -> list[str]:
        """The fields whose value differs in ``other``, in the sheet's order."""
        return [name for name in FIELDS if getattr(self, name) != getattr(other, name)]

    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name in FIELDS)


class FactSheetVersion(BaseModel):
    version: int
    sheet: FactSheet
    author: str
    at: datetime
    changed: list[str] = Field(default_factory=list, description="The fields this version changed.")
