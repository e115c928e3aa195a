"""The feedback form behind a single-use link (purpose ``feedback``): GET shows it, POST submits it
through the workflow's ``submit_feedback`` Update. Once the review is submitted (or the incident
closed) the link says so and changes nothing; a rating outside 1–5 is refused (422) and the link
stays usable."""

from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from api.pages import templates
from domain.actions import FeedbackSubmission
from domain.incident import IncidentView, Phase
from services.temporal import ActionRefused, IncidentNotFound, act, query_state
from store import tokens
from workflows.incident import IncidentWorkflow

CLOSED = "The review of this incident is closed, so feedback is no longer collected. Nothing was changed."


def _page(request: Request, heading: str, message: str, status: int) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "action.html", {"heading": heading, "message": message, "link_visitor": True}, status_code=status
    )


async def _open_state(client, row) -> IncidentView | None:
    """The incident while its review still takes feedback, else None."""
    try:
        state = await query_state(client, row.incident_id)
    except IncidentNotFound:
        return None
    if state.phase is not Phase.REVIEW or state.review is not None:
        return None
    return state


async def show(
    request: Request, client, row, name: str, action: str, error: str | None = None, form: dict | None = None, status: int = 200
) -> HTMLResponse:
    state = await _open_state(client, row)
    if state is None:
        return _page(request, "The review is closed", CLOSED, 410)
    due = next((d.due_at for d in state.deadlines if d.name == "review"), None)
    return templates.TemplateResponse(
        request,
        "feedback.html",
        {"incident": state, "person": name, "action": action, "due_at": due, "error": error, "form": form or {}},
        status_code=status,
    )


async def submit(request: Request, session, client, row, name: str, action: str, via: str = "email link") -> HTMLResponse:
    form = {key: values[0] for key, values in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    try:
        feedback = FeedbackSubmission(
            person=row.person_id,
            rating=form.get("rating", ""),
            went_well=form.get("went_well", "").strip() or None,
            went_badly=form.get("went_badly", "").strip() or None,
            via=via,
        )
    except ValidationError as invalid:
        problem = invalid.errors()[0]
        field = ".".join(str(part) for part in problem["loc"])
        message = "rating: choose a rating from 1 to 5" if field == "rating" else f"{field}: {problem['msg']}"
        return await show(request, client, row, name, action, error=f"{message}. Nothing was sent.", form=form, status=422)
    if await _open_state(client, row) is None:
        await tokens.spend(session, row, CLOSED)
        return _page(request, "The review is closed", CLOSED, 410)
    try:
        receipt = await act(
            client, row.incident_id, IncidentWorkflow.submit_feedback, feedback, update_id=f"link-{row.token_hash[:40]}"
        )
        outcome, status = "Thank you: " + ("; ".join(receipt.events) or "feedback recorded."), 200
    except ActionRefused as refused:
        outcome, status = f"Nothing to do: {refused.message}.", 409
    except IncidentNotFound:
        outcome, status = "The incident no longer exists.", 410
    await tokens.spend(session, row, outcome)
    return _page(request, "Thank you" if status == 200 else "Already handled", outcome, status)
