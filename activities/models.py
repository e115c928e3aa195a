"""Inputs of the activities (what the workflow hands to I/O)."""

from datetime import datetime

from pydantic import BaseModel, Field, field_serializer

from channels.base import Delivery
from domain.incident import PendingItem, TimelineEvent
from domain.listening import ReplySurge
from domain.messages import Notice
from domain.metrics import MetricsSummary
from domain.statements import StatementContext, StatementKind
from domain.variants import Channel, Variant


class IncidentSummary(BaseModel):
    id: str
    title: str
    playbook: str
    scenario: str
    severity: str
    phase: str
    status: str
    drill: bool
    declared_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    pending: list[PendingItem]
    projected_seq: int

    @field_serializer("pending")
    def _pending_as_json(self, items: list[PendingItem]) -> list[dict]:
        """Stored in a JSON column as it is: JSON-ready in every kind of dump."""
        return [item.model_dump(mode="json") for item in items]


class Projection(BaseModel):
    summary: IncidentSummary
    events: list[TimelineEvent]
    metrics: MetricsSummary | None = None


class RenderRequest(BaseModel):
    template: str
    context: StatementContext
    channels: list[Channel] | None = None


class Publication(BaseModel):
    incident_id: str
    version: int
    kind: StatementKind
    title: str
    text: str
    drill: bool = False
    fallback: bool = False
    targets: list[str] | None = Field(
        ["outbox"], description="None: every social network and status page set up, and the outbox."
    )
    threads: dict[str, str] = Field(
        default_factory=dict, description="Target → its post of the incident's first statement (updates reply to it)."
    )
    severity: str | None = None
    status_page_name: str | None = None
    components: list[str] = Field(default_factory=list, description="Status page components the incident affects.")
    variants: list[Variant] = Field(
        default_factory=list, description="The approved statement's variant for each channel; each target publishes its own."
    )
    tries: int | None = Field(
        None,
        description=(
            "The tries the workflow allows: the last one says in its receipts what still fails. None: tried until it goes."
        ),
    )


class TargetSignal(BaseModel):
    incident_id: str
    event: str
    targets: list[str]
    title: str
    text: str
    drill: bool = False


class PublishedPost(BaseModel):
    version: int
    target: str
    post_id: str
    kind: str = "statement"


class RepliesRequest(BaseModel):
    """Read what people answered under the incident's posts on the social networks."""

    incident_id: str
    posts: list[PublishedPost]
    playbook: str = ""
    surge: ReplySurge | None = Field(
        None, description="The playbook's surge rule: judge the replies to each statement after reading them."
    )


class RaisedSignal(BaseModel):
    """A surge of negative replies to one statement, stored as a signal tied to the incident."""

    id: str
    version: int
    summary: str
    negative: int = 0
    scored: int = 0


class RepliesWatched(BaseModel):
    new: int = 0
    raised: list[RaisedSignal] = Field(default_factory=list)


class IncidentOutcome(BaseModel):
    """What an incident's workflow returns when it closes: a summary, since a long incident's whole
    record would not fit a result (the ``state`` query, the read model and the report have it)."""

    id: str
    status: str
    phase: str
    severity: str
    drill: bool
    declared_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    runs: int = Field(description="Workflow runs: a long incident continues as new at safe points.")
    events: int = Field(description="Timeline events over every run.")
    metrics: MetricsSummary | None = None


class BatchedNotice(BaseModel):
    send_id: str = Field(description="The activity id the notice would have had on its own: the middle of its ledger keys.")
    notice: Notice


class NoticeBatch(BaseModel):
    """Several people's notices in one activity (a large team's pages, see IncidentActivities.notify_each)."""

    notices: list[BatchedNotice]


class NoticeOutcome(BaseModel):
    """One notice's try in a batch: its deliveries, or the error its own activity would have failed with."""

    deliveries: list[Delivery] | None = None
    failure: str | None = Field(
        None, description="The error's type (TransientDeliveryError, PermanentDeliveryError, DataError…)."
    )
    message: str = ""
    channels: list[str] = Field(default_factory=list, description="The channels the error names as not reaching the person.")
    final: bool = Field(False, description="Not worth another try (the notice's own activity would not have been retried).")
