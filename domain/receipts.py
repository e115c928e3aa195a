"""What an Update answers: what the action did, and the incident as it then stands.

Every Update's result is stored in the incident's history, so the view makes each one a few tens
of KiB (a long incident continues as new by its history's size as well as its length). It spares
the API a second round trip to the worker, a query, to answer a person's action with the incident:
that query waited for the workflow task the action itself started (docs/BENCHMARKS.md)."""

from pydantic import BaseModel, Field, SerializerFunctionWrapHandler, model_serializer

from domain.incident import IncidentView, Phase


class UpdateReceipt(BaseModel):
    """What a person's action did: the phase the incident is in now, the timeline messages the
    action wrote, in order (empty when it changed nothing anyone reads), and the incident as the
    action left it."""

    phase: Phase
    events: list[str] = Field(
        default_factory=list,
        description="The timeline messages the action wrote, like 'ewa.lewandowska acknowledged as incident_commander'.",
    )
    incident: IncidentView | None = Field(
        None, description="The incident as it stood once the action was applied; none in receipts recorded before it was added."
    )

    @model_serializer(mode="wrap")
    def _without_absent_incident(self, handler: SerializerFunctionWrapHandler) -> dict:
        """A receipt without the view keeps the shape receipts had before it (those in recorded histories)."""
        data = handler(self)
        if self.incident is None:
            data.pop("incident", None)
        return data
