"""What the outbox channel delivered. Its pages and approval emails carry live action links
(``/a/<token>``), each as good as the person it was sent to: only an admin key reads them; every
other key sees the messages with the links redacted (docs/security.md)."""

import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from api.auth import Reader
from api.deps import CatalogDep, SessionDep
from api.pages import people_names, templates, wants_html
from store import service

router = APIRouter(tags=["outbox"])
REDACTED = "[redacted: only an admin key reads action links]"


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


# A token is 43 URL-safe characters (store/tokens.py); the public URL in front of it may have
# changed since the message was sent, so any "/a/<token>" is hidden, whatever its host.
ACTION_LINK = re.compile(r"/a/[A-Za-z0-9_-]{20,}")


def redacted(message: OutboxMessage) -> OutboxMessage:
    def hide(text: str) -> str:
        return ACTION_LINK.sub("/a/" + REDACTED, text)

    return message.model_copy(
        update={
            "body": hide(message.body),
            "links": [{**link, "url": hide(link.get("url", ""))} for link in message.links],
        }
    )


@router.get("/outbox", response_model=list[OutboxMessage], responses={200: {"content": {"text/html": {}}}})
async def outbox(
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    caller: Reader,
    incident: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[OutboxMessage]:
    """What the outbox channel delivered (newest first): pages, reminders, approvals, publications.
    Action links (``/a/<token>``) are shown to admin keys only; for other keys they are redacted.
    A browser (``Accept: text/html``) gets the same messages as a page."""
    rows = await service.list_outbox(session, incident_id=incident, limit=limit)
    messages = [OutboxMessage.model_validate(row, from_attributes=True) for row in rows]
    if caller is None or not caller.is_admin:
        messages = [redacted(message) for message in messages]
    if wants_html(request):
        return templates.TemplateResponse(
            request,
            "outbox.html",
            {"messages": messages, "incident": incident, "names": people_names(catalog), "redacted": REDACTED},
        )
    return messages
