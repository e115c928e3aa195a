"""What an Update answers: what the action did, small on purpose, since every Update's result is
stored in the incident's history. The incident as it then stands comes only as what changed since
the copy the caller said it holds (``domain/view_delta.py``)."""

from pydantic import BaseModel, Field, SerializerFunctionWrapHandler, model_serializer

from domain.incident import Phase
from domain.view_delta import ViewDelta


class UpdateReceipt(BaseModel):
    """What a person's action did: the phase the incident is in now, and the timeline messages the
    action wrote, in order (empty when it changed nothing anyone reads)."""

    phase: Phase
    events: list[str] = Field(
        default_factory=list,
        description="The timeline messages the action wrote, like 'ewa.lewandowska acknowledged as incident_commander'.",
    )
    view: ViewDelta | None = Field(
        None,
        description="The incident once the workflow has acted on the change, as the parts the caller's copy lacks; "
        "none when the caller holds no copy, the parts would be too large, or the run predates it.",
    )

    @model_serializer(mode="wrap")
    def _without_absent_view(self, handler: SerializerFunctionWrapHandler) -> dict:
        """A receipt without a view keeps the shape receipts had before it (those in recorded histories)."""
        data = handler(self)
        if self.view is None:
            data.pop("view", None)
        return data
