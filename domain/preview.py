"""What the statement editor shows while someone types: the draft as the incident would take it,
one variant per channel, each counted its channel's way against its limit (domain/variants.py).

The same ``Incident.draft_variants`` that the draft's validator uses builds the variants, on the
incident's pinned playbook, so the preview and the refusal never disagree. Nothing is changed: the
workflow answers it as a query.
"""

from pydantic import BaseModel, Field

from domain.actions import StatementPreview
from domain.incident import Incident
from domain.variants import CHANNELS, Channel, Form, Variant


class PreviewedVariant(BaseModel):
    """A :class:`domain.variants.Variant` as the editor shows it."""

    channel: Channel
    label: str = Field(description="The channel as people name it (X, Bluesky, status page…).")
    form: Form = Field(description="The form the channel takes: short, or long.")
    text: str
    length: int = Field(description="In the channel's unit.")
    limit: int
    unit: str = Field(description="characters, weighted characters, graphemes or segments.")
    title: str | None = Field(None, description="The status page's incident name or the email's subject.")
    title_length: int | None = None
    title_limit: int | None = None
    field: str = Field(description="The draft's field this variant's text comes from: text, or short.")
    problems: list[str] = Field(
        description="Why it cannot go out as it is, naming the channel and the numbers; empty when it fits."
    )


class DraftPreview(BaseModel):
    variants: list[PreviewedVariant] = Field(
        description="One per channel of the incident's playbook, counted in the channel's unit."
    )
    problems: list[str] = Field(
        description="Everything that would make the draft refused for its length (422), in the refusal's words."
    )


def source_field(item: Variant, draft: StatementPreview) -> str:
    """The editor field a variant's text comes from: a short channel reads the long text while the
    short form is empty."""
    return "short" if CHANNELS[item.channel].form is Form.SHORT and draft.short else "text"


def length_problem(incident: Incident, text: str) -> str | None:
    """The playbook's own ceiling on the text (``communicate.max_length``), in the validator's words."""
    limit = incident.playbook.communicate.max_length
    if limit is not None and len(text) > limit:
        return f"text: {len(text)} characters; this playbook's channels take at most {limit}"
    return None


def preview_statement(incident: Incident, draft: StatementPreview) -> DraftPreview:
    """Each variant with its count, limit, unit, the editor field it comes from and what is wrong
    with it in words."""
    variants = incident.draft_variants(draft) if incident.public_voice else []
    shown = [
        PreviewedVariant(
            **item.model_dump(),
            label=CHANNELS[item.channel].label,
            form=CHANNELS[item.channel].form,
            field=source_field(item, draft),
            problems=item.problems(),
        )
        for item in variants
    ]
    problems = [problem for problem in [length_problem(incident, draft.text)] if problem]
    return DraftPreview(variants=shown, problems=problems + [problem for item in shown for problem in item.problems])
