"""What an Update answers: small on purpose, since every Update's result is stored in the
incident's history (the full view is one query away)."""

from pydantic import BaseModel, Field

from domain.incident import Phase


class UpdateReceipt(BaseModel):
    """What a person's action did: the phase the incident is in now, and the timeline messages the
    action wrote, in order (empty when it changed nothing anyone reads)."""

    phase: Phase
    events: list[str] = Field(
        default_factory=list,
        description="The timeline messages the action wrote, like 'ewa.lewandowska acknowledged as incident_commander'.",
    )
