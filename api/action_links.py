"""Single-use action links (``/a/{token}``) from SMS and email: acknowledge a page, or decide on
a statement version, on an answer proposal of the incident's answers kit, or on an internal message.

GET only shows what the link will do: mail scanners and link previews follow GET links, so a GET
never changes anything. POST acts, through the same workflow Update as the API, with an update id
derived from the token so that a double click acts once. A link for a statement version that has
been replaced, or already decided, is spent and says so; so is one for an answer proposal.

The token in the URL is the credential, so these routes need no API key. When one comes with the
request anyway (a signed-in browser's cookie, an API call's header), the timeline names it with the
link ("email link, API key comms-desk"): a link used by someone holding a key is traced to that key.
They are rate limited per IP (CRISIS_RATE_LIMIT_LINKS). The unguessable token is what keeps another site from forging
the form (it cannot know it); a POST whose Origin names another site is refused as well. Our own
pages are ``no-referrer`` (the token must not leak), so their forms arrive with ``Origin: null``.
"""

from datetime import datetime, timezone
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from api import feedback_links
from api.auth import credential_of
from api.deps import CatalogDep, ClientDep, SessionDep
from api.pages import people_names, role_name, templates
from api.ratelimit import RateLimited
from api.security import same_origin
from api.worddiff import word_diff
from domain.actions import Acknowledge, DecideAnswer, DecideInternal, DecideStatement, StatementDecision, Verdict
from domain.incident import (
    AnswerStatus,
    IncidentStatus,
    IncidentView,
    InternalStatus,
    KitAnswer,
    PendingKind,
    StatementStatus,
    StatementVersion,
)
from services.temporal import ActionRefused, IncidentNotFound, act, query_state
from store import service, tokens
from workflows.incident import IncidentWorkflow

router = APIRouter(include_in_schema=False, dependencies=[Depends(RateLimited("links"))])
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


async def _via(request: Request, row) -> str:
    """How the use reads in the timeline: the link's channel, and the API key that came with it
    (a signed-in browser's, or an API call's), so a link used with someone's key names the key."""
    link = f"{'SMS' if row.ledger_key.endswith('/sms') else 'email'} link"
    holder = await credential_of(request)
    return f"{link}, API key {holder.name}" if holder else link


def _page(request: Request, heading: str, message: str, status: int = 200, **context) -> HTMLResponse:
    """A result page for someone who came by a link: no navigation (it leads to pages behind a key)."""
    return templates.TemplateResponse(
        request, "action.html", {"heading": heading, "message": message, "link_visitor": True, **context}, status_code=status
    )


def _previous_round(incident: IncidentView, statement: StatementVersion, names: dict[str, str]) -> dict:
    """The version this one revises, what its approvers asked for, and a word diff from it."""
    earlier = [s for s in incident.statements if s.version < statement.version]
    previous = earlier[-1] if earlier else None
    if previous is None:
        return {"previous": None, "previous_comments": [], "diff": []}
    comments = [{"name": names.get(d.person, d.person), "comment": d.comment} for d in previous.decisions if d.comment]
    return {"previous": previous, "previous_comments": comments, "diff": word_diff(previous.text, statement.text)}


NEXT_KINDS = {  # a link's purpose: the pending kinds of its approval and of its revision
    "approve": (PendingKind.APPROVAL, PendingKind.STATEMENT_DRAFT),
    "approve_answer": (PendingKind.ANSWER_APPROVAL, PendingKind.ANSWER_DRAFT),
    "approve_internal": (PendingKind.INTERNAL_APPROVAL, PendingKind.INTERNAL_DRAFT),
}


async def _what_happens_next(client, incident_id: str, purpose: str, names: dict[str, str], audience: str | None = None) -> str:
    """After a decision by link: who still has to decide, or what the incident does now."""
    try:
        state = await query_state(client, incident_id)
    except IncidentNotFound:
        return ""
    kind, draft = NEXT_KINDS[purpose]
    waiting = [item for item in state.pending if item.kind is kind and getattr(item, "audience", None) == audience]
    if waiting:
        who = "; ".join(f"{role_name(item.role)} ({', '.join(names.get(p, p) for p in item.people)})" for item in waiting)
        sent = "sent" if purpose == "approve_internal" else "published"
        return f"Next: it still needs approval from {who}. Nothing is {sent} before that."
    if any(item.kind is draft and getattr(item, "audience", None) == audience for item in state.pending):
        return "Next: the author has been told what to change; you will get a new link for the revised version."
    if purpose == "approve":
        return "Next: it is approved and goes out now, exactly as you read it, to every channel of the incident."
    if purpose == "approve_internal":
        return "Next: it is approved and emailed now to its group, marked internal; it is never published."
    return "Next: the answer is approved and the team can use it in replies."


async def _statement(client, row):
    """The incident state and the version the link is about, or why the link no longer applies."""
    try:
        state = await query_state(client, row.incident_id)
    except IncidentNotFound:
        return None, None, "The incident no longer exists."
    statement = next((s for s in state.statements if s.version == row.version), None)
    if statement is None:
        return state, None, f"There is no statement version {row.version}."
    if statement.status is not StatementStatus.PENDING_APPROVAL:
        newer = [s.version for s in state.statements if s.version > row.version]
        replaced = f" It was replaced by v{newer[-1]}." if statement.status is StatementStatus.SUPERSEDED and newer else ""
        return (
            state,
            statement,
            f"Statement v{row.version} is {statement.status.value.replace('_', ' ')}; nothing to decide.{replaced}",
        )
    return state, statement, None


async def _answer_proposal(client, row):
    """The incident state and the answer proposal the link is about (``row.version`` is its
    incident-wide number), or why the link no longer applies."""
    try:
        state = await query_state(client, row.incident_id)
    except IncidentNotFound:
        return None, None, "The incident no longer exists."
    proposal = next((p for p in state.answer_versions if p.number == row.version), None)
    if proposal is None:
        return state, None, "There is no such answer proposal."
    label = f"Answer '{proposal.answer_id}' v{proposal.version}"
    if state.status is IncidentStatus.CLOSED:
        return state, proposal, f"{label} was not decided before the incident closed; nothing to decide."
    if proposal.status is not AnswerStatus.PENDING_APPROVAL:
        newer = [p.version for p in state.answer_versions if p.answer_id == proposal.answer_id and p.version > proposal.version]
        replaced = f" It was replaced by v{newer[-1]}." if proposal.status is AnswerStatus.SUPERSEDED and newer else ""
        return state, proposal, f"{label} is {proposal.status.value.replace('_', ' ')}; nothing to decide.{replaced}"
    return state, proposal, None


async def _internal_message(client, row):
    """The incident state and the internal message the link is about (``row.version`` is its
    incident-wide number), or why the link no longer applies."""
    try:
        state = await query_state(client, row.incident_id)
    except IncidentNotFound:
        return None, None, "The incident no longer exists."
    message = next((m for m in state.internal_messages if m.number == row.version), None)
    if message is None:
        return state, None, "There is no such internal message."
    if message.status is not InternalStatus.PENDING_APPROVAL:
        return (
            state,
            message,
            (
                f"The internal message for {message.name} v{message.version} is {message.status.value.replace('_', ' ')}; nothing"
                " to decide."
            ),
        )
    return state, message, None


def _in_use(state: IncidentView, answer_id: str) -> KitAnswer | None:
    return next((a for a in state.answers_kit if a.id == answer_id and a.text is not None), None)


def _decision(form: dict[str, list[str]]) -> tuple[str, str | None]:
    decision = (form.get("decision") or [""])[0]
    comment = (form.get("comment") or [""])[0].strip()[:MAX_COMMENT] or None
    return decision, comment


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
    return {
        "id": state.id,
        "title": state.title,
        "severity": state.severity.value,
        "phase": state.phase.value,
        "drill": state.drill,
    }


@router.get("/a/{token}", response_class=HTMLResponse)
async def confirm(token: Token, request: Request, session: SessionDep, catalog: CatalogDep, client: ClientDep) -> HTMLResponse:
    row, refusal = await _usable(session, token)
    if refusal:
        return _page(request, *refusal)
    person = catalog.roster.person(row.person_id)
    name = person.name if person else row.person_id
    if row.purpose == "feedback":
        return await feedback_links.show(request, client, row, name, f"/a/{token}")
    if row.purpose == "approve":
        state, statement, stale = await _statement(client, row)
        if stale:
            return _page(request, "This link no longer applies", stale, 410)
        deadline = next((d for d in state.deadlines if d.name == "first_statement" and not d.met_at), None)
        names = people_names(catalog)
        return templates.TemplateResponse(
            request,
            "approval.html",
            {
                "incident": state,
                "statement": statement,
                "person": name,
                "action": f"/a/{token}",
                "author": names.get(statement.author, statement.author),
                "due_at": deadline.due_at if deadline else state.next_update_due,
                **_previous_round(state, statement, names),
            },
        )
    if row.purpose == "approve_answer":
        state, proposal, stale = await _answer_proposal(client, row)
        if stale:
            return _page(request, "This link no longer applies", stale, 410)
        return templates.TemplateResponse(
            request,
            "answer_approval.html",
            {
                "incident": state,
                "proposal": proposal,
                "in_use": _in_use(state, proposal.answer_id),
                "person": name,
                "action": f"/a/{token}",
            },
        )
    if row.purpose == "approve_internal":
        state, message, stale = await _internal_message(client, row)
        if stale:
            return _page(request, "This link no longer applies", stale, 410)
        return templates.TemplateResponse(
            request,
            "internal_approval.html",
            {"incident": state, "message": message, "person": name, "action": f"/a/{token}"},
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
async def perform(token: Token, request: Request, session: SessionDep, client: ClientDep, catalog: CatalogDep) -> HTMLResponse:
    if not same_origin(request, allow_opaque=True):
        return _page(
            request, "This form was sent from another site", "Open the link from your message instead. Nothing was changed.", 403
        )
    row, refusal = await _usable(session, token)
    if refusal:
        return _page(request, *refusal)
    via = await _via(request, row)
    if row.purpose == "feedback":
        person = catalog.roster.person(row.person_id)
        return await feedback_links.submit(
            request, session, client, row, person.name if person else row.person_id, f"/a/{token}", via
        )
    update_id = f"link-{row.token_hash[:40]}"
    try:
        if row.purpose in ("approve", "approve_answer", "approve_internal"):
            decision, comment = _decision(parse_qs((await request.body()).decode("utf-8", "replace")))
            if decision not in (Verdict.APPROVE.value, Verdict.REJECT.value):
                return _page(request, "Choose Approve or Request changes", "The form was incomplete; nothing was changed.", 422)
            action = StatementDecision(person=row.person_id, decision=decision, comment=comment, via=via)
        if row.purpose == "approve_answer":
            _, proposal, stale = await _answer_proposal(client, row)
            if stale:
                await tokens.spend(session, row, stale)
                return _page(request, "This link no longer applies", stale, 410)
            decision_on = DecideAnswer(**dict(action), answer_id=proposal.answer_id, version=proposal.version)
            receipt = await act(client, row.incident_id, IncidentWorkflow.decide_kit_answer, decision_on, update_id=update_id)
        elif row.purpose == "approve_internal":
            _, message, stale = await _internal_message(client, row)
            if stale:
                await tokens.spend(session, row, stale)
                return _page(request, "This link no longer applies", stale, 410)
            decision_on = DecideInternal(**dict(action), audience=message.audience, version=message.version)
            receipt = await act(
                client, row.incident_id, IncidentWorkflow.decide_internal_message, decision_on, update_id=update_id
            )
        elif row.purpose == "approve":
            _, _, stale = await _statement(client, row)
            if stale:
                await tokens.spend(session, row, stale)
                return _page(request, "This link no longer applies", stale, 410)
            decision_on = DecideStatement(**dict(action), version=row.version)
            receipt = await act(client, row.incident_id, IncidentWorkflow.decide_statement, decision_on, update_id=update_id)
        else:
            receipt = await act(
                client,
                row.incident_id,
                IncidentWorkflow.acknowledge,
                Acknowledge(person=row.person_id, via=via),
                update_id=update_id,
            )
        outcome, status = "; ".join(receipt.events) or "Done.", 200
        if row.purpose in NEXT_KINDS:
            audience = message.audience if row.purpose == "approve_internal" else None
            next_step = await _what_happens_next(client, row.incident_id, row.purpose, people_names(catalog), audience)
            outcome = f"{outcome.rstrip('.')}. {next_step}".strip()
    except ValidationError as invalid:  # the link stays usable: nothing was done
        problem = invalid.errors()[0]
        field = ".".join(str(part) for part in problem["loc"])
        return _page(
            request,
            "The form could not be taken",
            f"{field}: {problem['msg'].removeprefix('Value error, ')}. Nothing was changed.",
            422,
        )
    except ActionRefused as refused:
        outcome, status = f"Nothing to do: {refused.message}.", 409
    except IncidentNotFound:
        outcome, status = "The incident no longer exists.", 410
    await tokens.spend(session, row, outcome)
    return _page(request, "Done" if status == 200 else "Already handled", outcome, status)
