"""Single-use action links (``/a/{token}``) from SMS and email: acknowledge a page, or decide on
a statement version.

GET only shows what the link will do: mail scanners and link previews follow GET links, so a GET
never changes anything. POST acts, through the same workflow Update as the API, with an update id
derived from the token so that a double click acts once. A link for a statement version that has
been replaced, or already decided, is spent and says so.
"""

from datetime import datetime, timezone
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from api.deps import CatalogDep, ClientDep, SessionDep
from api.pages import templates
from api.temporal import ActionRefused, IncidentNotFound, act, query_state
from domain.actions import Acknowledge, StatementDecision, Verdict
from store import service, tokens
from workflows.incident import IncidentWorkflow

router = APIRouter(include_in_schema=False)
Token = Annotated[str, Path(min_length=10, max_length=100)]
MAX_COMMENT = 2000


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


async def _statement(client, row):
    """The incident state and the version the link is about, or why the link no longer applies."""
    try:
        state = await query_state(client, row.incident_id)
    except IncidentNotFound:
        return None, None, "The incident no longer exists."
    statement = next((s for s in state["statements"] if s["version"] == row.version), None)
    if statement is None:
        return state, None, f"There is no statement version {row.version}."
    if statement["status"] != "pending_approval":
        newer = [s["version"] for s in state["statements"] if s["version"] > row.version]
        replaced = f" It was replaced by v{newer[-1]}." if statement["status"] == "superseded" and newer else ""
        return state, statement, f"Statement v{row.version} is {statement['status'].replace('_', ' ')}; nothing to decide.{replaced}"
    return state, statement, None


async def _incident(session, client, incident_id: str) -> dict | None:
    """What the page shows of the incident: from the read model, or from the workflow while the
    incident's first projection is still on its way (a page can reach someone before it)."""
    row = await service.get_incident(session, incident_id)
    if row is not None:
        return {"id": row.id, "title": row.title, "severity": row.severity, "phase": row.phase, "drill": row.drill}
    try:
        state = await query_state(client, incident_id)
    except IncidentNotFound:
        return None
    return {key: state[key] for key in ("id", "title", "severity", "phase", "drill")}


@router.get("/a/{token}", response_class=HTMLResponse)
async def confirm(token: Token, request: Request, session: SessionDep, catalog: CatalogDep, client: ClientDep) -> HTMLResponse:
    row, refusal = await _usable(session, token)
    if refusal:
        return _page(request, *refusal)
    person = catalog.roster.person(row.person_id)
    name = person.name if person else row.person_id
    if row.purpose == "approve":
        state, statement, stale = await _statement(client, row)
        if stale:
            return _page(request, "This link no longer applies", stale, 410)
        deadline = next((d for d in state["deadlines"] if d["name"] == "first_statement" and not d["met_at"]), None)
        return templates.TemplateResponse(
            request,
            "approval.html",
            {"incident": state, "statement": statement, "person": name, "action": f"/a/{token}",
             "due_at": deadline["due_at"] if deadline else state.get("next_update_due")},
        )
    incident = await _incident(session, client, row.incident_id)
    return _page(
        request,
        incident["title"] if incident else row.incident_id,
        "Acknowledge the page: you take this incident and the escalation stops.",
        incident=incident,
        person=name,
        action=f"/a/{token}",
        button="Acknowledge",
    )


@router.post("/a/{token}", response_class=HTMLResponse)
async def perform(token: Token, request: Request, session: SessionDep, client: ClientDep) -> HTMLResponse:
    row, refusal = await _usable(session, token)
    if refusal:
        return _page(request, *refusal)
    update_id = f"link-{row.token_hash[:40]}"
    try:
        if row.purpose == "approve":
            form = parse_qs((await request.body()).decode("utf-8", "replace"))
            decision = (form.get("decision") or [""])[0]
            comment = (form.get("comment") or [""])[0].strip()[:MAX_COMMENT] or None
            if decision not in (Verdict.APPROVE.value, Verdict.REJECT.value):
                return _page(request, "Choose Approve or Request changes", "The form was incomplete; nothing was changed.", 422)
            _, _, stale = await _statement(client, row)
            if stale:
                await tokens.spend(session, row, stale)
                return _page(request, "This link no longer applies", stale, 410)
            action = StatementDecision(person=row.person_id, decision=decision, comment=comment)
            receipt = await act(client, row.incident_id, IncidentWorkflow.decide, row.version, action, update_id=update_id)
        else:
            receipt = await act(client, row.incident_id, IncidentWorkflow.acknowledge, Acknowledge(person=row.person_id), update_id=update_id)
        outcome, status = "; ".join(receipt["events"]) or "Done.", 200
    except ActionRefused as refused:
        outcome, status = f"Nothing to do: {refused.message}.", 409
    except IncidentNotFound:
        outcome, status = "The incident no longer exists.", 410
    await tokens.spend(session, row, outcome)
    return _page(request, "Done" if status == 200 else "Already handled", outcome, status)
