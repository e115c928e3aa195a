"""Single-use action links (``/a/{token}``) from SMS and email.

GET only shows what the link will do: mail scanners and link previews follow GET links, so a GET
never changes anything. POST acts, through the same workflow Update as the API, with an update id
derived from the token so that a double click runs once.
"""

from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from api.deps import CatalogDep, ClientDep, SessionDep
from api.pages import templates
from api.temporal import ActionRefused, IncidentNotFound, act
from domain.actions import Acknowledge
from store import service, tokens
from workflows.incident import IncidentWorkflow

router = APIRouter(include_in_schema=False)
Token = Annotated[str, Path(min_length=10, max_length=100)]

PURPOSES = {"acknowledge": "Acknowledge the page: you take this incident and the escalation stops."}


async def _usable(session, token: str):
    """The token's row, or the page explaining why it cannot be used (403 forged, 410 spent or expired)."""
    row = await tokens.find(session, token)
    if row is None:
        return None, ("This link is not valid", "It may have been mistyped or forged. Nothing was changed.", 403)
    if row.used_at is not None:
        return None, ("This link was already used", row.outcome or "It can be used once.", 410)
    if row.expires_at <= datetime.now(timezone.utc):
        return None, ("This link has expired", "Ask the incident commander, or act from the dashboard.", 410)
    return row, None


def _page(request: Request, heading: str, message: str, status: int = 200, **context) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "action.html", {"heading": heading, "message": message, **context}, status_code=status
    )


@router.get("/a/{token}", response_class=HTMLResponse)
async def confirm(token: Token, request: Request, session: SessionDep, catalog: CatalogDep) -> HTMLResponse:
    row, refusal = await _usable(session, token)
    if refusal:
        return _page(request, *refusal)
    incident = await service.get_incident(session, row.incident_id)
    person = catalog.roster.person(row.person_id)
    return _page(
        request,
        incident.title if incident else row.incident_id,
        PURPOSES[row.purpose],
        incident=incident,
        person=person.name if person else row.person_id,
        action=f"/a/{token}",
        button="Acknowledge",
    )


@router.post("/a/{token}", response_class=HTMLResponse)
async def perform(token: Token, request: Request, session: SessionDep, client: ClientDep) -> HTMLResponse:
    row, refusal = await _usable(session, token)
    if refusal:
        return _page(request, *refusal)
    try:
        receipt = await act(
            client, row.incident_id, IncidentWorkflow.acknowledge, Acknowledge(person=row.person_id), update_id=f"link-{row.token_hash[:40]}"
        )
        outcome, status = "; ".join(receipt["events"]) or "Acknowledged.", 200
    except ActionRefused as refused:
        outcome, status = f"Nothing to do: {refused.message}.", 409
    except IncidentNotFound:
        outcome, status = "The incident no longer exists.", 410
    await tokens.spend(session, row, outcome)
    return _page(request, "Done" if status == 200 else "Already handled", outcome, status)
