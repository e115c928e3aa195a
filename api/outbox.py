from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import SessionDep
from store import service

router = APIRouter(tags=["outbox"])


class OutboxMessage(BaseModel):
    id: int
    incident_id: str
    person_id: str | None
    channel: str
    kind: str
    subject: str
    body: str
    links: list[dict[str, str]]
    drill: bool
    created_at: datetime


@router.get("/outbox", response_model=list[OutboxMessage])
async def outbox(
    session: SessionDep,
    incident: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[OutboxMessage]:
    """What the outbox channel delivered (newest first): pages, reminders, approvals, publications."""
    rows = await service.list_outbox(session, incident_id=incident, limit=limit)
    return [OutboxMessage.model_validate(row, from_attributes=True) for row in rows]
