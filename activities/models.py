"""Inputs of the activities (what the workflow hands to I/O)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from domain.incident import TimelineEvent
from domain.metrics import MetricsSummary
from domain.statements import StatementContext, StatementKind


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
    pending: list[dict[str, Any]]
    projected_seq: int


class Projection(BaseModel):
    summary: IncidentSummary
    events: list[TimelineEvent]
    metrics: MetricsSummary | None = None


class RenderRequest(BaseModel):
    template: str
    context: StatementContext


class Publication(BaseModel):
    incident_id: str
    version: int
    kind: StatementKind
    title: str
    text: str
    drill: bool = False
    fallback: bool = False
    targets: list[str] = ["outbox"]


class TargetSignal(BaseModel):
    incident_id: str
    event: str
    targets: list[str]
    title: str
    text: str
    drill: bool = False
