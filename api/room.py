"""The crisis room's forms: what a signed-in browser does from the dashboard and the incident page.

One path, not two: each form is parsed into the API's own request model and handed to the API's
own route function (``incidents.acknowledge``, ``answers.propose_answer``…), so the same Update,
validation and timeline entry follow, with the browser's key named as ``via``. Success goes back to
the page (303, post/redirect/get); a refusal (409/422) renders the page again with the words beside
the field they name and the form as it was filled in. Each route is one of ``auth.BROWSER_FORMS``:
the session cookie is taken for it only from our own pages (same origin).
"""

import re
import uuid
from datetime import date
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from api import answers, incidents, internal, review
from api.auth import Declarer, Responder
from api.deps import CatalogDep, ClientDep, SessionDep, SettingsDep
from api.incidents import IncidentId, api_idempotency_key
from api.pages import dashboard_page, editor_values, incident_page_response, templates
from domain.actions import (
    Acknowledge,
    ActionItem,
    AnswerDraft,
    Assessment,
    FactSheetEdit,
    FeedbackSubmission,
    InternalDraft,
    Reassessment,
    Resolution,
    ReviewSubmission,
    StatementDecision,
    StatementDraft,
    StatementPreview,
    TaskCompletion,
)
from domain.factsheet import FIELDS
from domain.variants import CHANNELS
from domain.variants import Form as VariantForm
from services.declare import Declaration, DeclarationRefused, declare_incident
from services.temporal import IncidentNotFound, query_state

router = APIRouter(include_in_schema=False)
FormName = Annotated[str, Path(max_length=40, pattern=r"^[a-z-]+$")]
ACTION_ITEM_ROWS = 3
IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,99}")  # answer and audience ids, as api/answers.py's and api/internal.py's paths


async def read_form(request: Request) -> dict[str, list[str]]:
    """The posted form, its line breaks as people typed them: a browser sends a textarea's breaks as
    CR LF, which would reach X, Bluesky or an SMS as two characters each."""
    form = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    return {name: [value.replace("\r\n", "\n") for value in values] for name, values in form.items()}


def one(form: dict[str, list[str]], name: str) -> str:
    return (form.get(name) or [""])[0].strip()


def optional(form: dict[str, list[str]], name: str) -> str | None:
    return one(form, name) or None


def number(form: dict[str, list[str]], name: str) -> int:
    value = one(form, name)
    if not value.isdigit():
        raise ValueError(f"{name}: choose one" if not value else f"{name}: '{value}' is not a whole number")
    return int(value)


def identifier(form: dict[str, list[str]], name: str) -> str:
    value = one(form, name)
    if not IDENTIFIER.fullmatch(value):
        raise ValueError(f"{name}: lower case letters, digits and _, starting with a letter (like is_refund_coming)")
    return value


def lines(form: dict[str, list[str]], name: str) -> list[str]:
    """A textarea where each line is one item (facts, rumours, what went well…)."""
    return [line.strip() for line in one(form, name).splitlines() if line.strip()]


def refusal(error: Exception, fields: set[str]) -> tuple[dict[str, str], int]:
    """The words of a refusal and the form field they belong to (``form`` when none of its fields)."""
    if isinstance(error, ValidationError):
        problem = error.errors()[0]
        location = [str(part) for part in problem["loc"]]
        field = next((part for part in reversed(location) if part in fields), "form")
        message = f"{'.'.join(location)}: {problem['msg'].removeprefix('Value error, ')}" if location else problem["msg"]
        return {"field": field, "message": message}, 422
    if isinstance(error, (DeclarationRefused, ValueError)):  # ValueError: a number or a date that is not one
        detail, status = str(error), 422
    else:
        detail, status = str(error.detail), error.status_code
    named = detail.split(":", 1)[0].strip().split(".")[-1]
    return {"field": named if named in fields else "form", "message": detail}, status


# ---- declare (the dashboard) ----------------------------------------------------------------------

DECLARE_FIELDS = {"playbook", "title", "summary", "severity", "language", "drill", "declared_by", "headline", "Idempotency-Key"}


@router.post("/declare", response_class=HTMLResponse)
async def declare_from_the_dashboard(
    request: Request, session: SessionDep, settings: SettingsDep, client: ClientDep, catalog: CatalogDep, caller: Declarer
):
    """The dashboard's declare form. Its hidden ``form_id`` (new with every dashboard) is the
    Idempotency-Key, so a double submit or a reload after a timeout declares once."""
    form = await read_form(request)
    values = {
        name: one(form, name)
        for name in ("playbook", "title", "summary", "severity", "language", "declared_by", "headline", "form_id")
    }
    values["drill"] = bool(one(form, "drill"))
    try:
        declaration = Declaration(
            playbook=values["playbook"],
            title=values["title"],
            summary=values["summary"],
            severity=values["severity"] or None,
            language=values["language"] or None,
            drill=values["drill"],
            declared_by=values["declared_by"] or None,
            fact_sheet={"headline": values["headline"]} if values["headline"] else None,
        )
        key = api_idempotency_key(caller.name, f"form:{values['form_id'] or uuid.uuid4().hex}")
        declared, _created = await declare_incident(settings, client, catalog, declaration, key, via=caller.via, same_body=True)
    except (ValidationError, DeclarationRefused) as error:
        problem, status = refusal(error, DECLARE_FIELDS)
        if problem["field"] == "Idempotency-Key":
            problem["field"] = "form"
        return await dashboard_page(
            request, session, settings, catalog, form=values, error={"form": "declare", **problem}, status=status
        )
    return RedirectResponse(f"/incidents/{declared.id}/view", status_code=303)


# ---- act (the incident page) ----------------------------------------------------------------------


def _answers(form: dict[str, list[str]]) -> dict[str, str]:
    return {
        name.removeprefix("answer."): value[0].strip()
        for name, value in form.items()
        if name.startswith("answer.") and value[0].strip()
    }


def _action_items(form: dict[str, list[str]]) -> list[ActionItem]:
    items = []
    for row in range(1, ACTION_ITEM_ROWS + 1):
        title = one(form, f"item{row}.title")
        if not title and not one(form, f"item{row}.owner"):
            continue
        due = one(form, f"item{row}.due")
        try:
            due = date.fromisoformat(due) if due else None
        except ValueError:
            raise ValueError(f"item{row}.due: '{due}' is not a date like 2026-12-31") from None
        items.append(
            ActionItem(
                title=title,
                owner=one(form, f"item{row}.owner"),
                due=due,
                playbook_section=optional(form, f"item{row}.section"),
            )
        )
    return items


async def _fact_sheet_changes(client, incident: str, form: dict[str, list[str]]) -> dict[str, str]:
    """Only the fields the person changed: the form shows the whole sheet."""
    current = (await query_state(client, incident)).fact_sheet
    return {name: one(form, name) for name in FIELDS if name in form and one(form, name) != (getattr(current, name) or "")}


async def perform(form_name: str, incident: str, form: dict[str, list[str]], client, settings, caller) -> Any:
    """Build the API's body from the form and call the API's route for it."""
    person = one(form, "person")
    args = (client, settings, caller)
    match form_name:
        case "acknowledge":
            return await incidents.acknowledge(incident, Acknowledge(person=person), *args)
        case "assessment":
            body = Assessment(
                person=person,
                severity=optional(form, "severity"),
                impact=optional(form, "impact"),
                reach=optional(form, "reach"),
                answers=_answers(form),
                facts=lines(form, "facts"),
                rumours=lines(form, "rumours"),
                audiences=lines(form, "audiences"),
            )
            return await incidents.assess(incident, body, *args)
        case "task":
            return await incidents.complete_task(
                incident, one(form, "task_id"), TaskCompletion(person=person, note=optional(form, "note")), *args
            )
        case "fact-sheet":
            body = FactSheetEdit(person=person, fields=await _fact_sheet_changes(client, incident, form))
            return await incidents.edit_fact_sheet(incident, body, *args)
        case "statement":
            body = StatementDraft(
                person=person, text=one(form, "text"), short=optional(form, "short"), title=optional(form, "title")
            )
            return await incidents.submit_statement(incident, body, *args)
        case "decision":
            body = StatementDecision(person=person, decision=one(form, "decision"), comment=optional(form, "comment"))
            return await incidents.decide(incident, number(form, "version"), body, *args)
        case "resolve":
            return await incidents.resolve(incident, Resolution(person=person, summary=one(form, "summary")), *args)
        case "severity":
            body = Reassessment(person=person, severity=one(form, "severity"), reason=one(form, "reason"))
            return await incidents.reassess(incident, body, *args)
        case "review":
            body = ReviewSubmission(
                person=person,
                summary=one(form, "summary"),
                went_well=lines(form, "went_well"),
                went_badly=lines(form, "went_badly"),
                action_items=_action_items(form),
            )
            return await incidents.review(incident, body, *args)
        case "feedback":
            body = FeedbackSubmission(
                person=person,
                rating=number(form, "rating"),
                went_well=optional(form, "went_well"),
                went_badly=optional(form, "went_badly"),
            )
            return await review.feedback(incident, body, *args)
        case "answer":
            body = AnswerDraft(person=person, text=one(form, "text"), question=optional(form, "question"))
            return await answers.propose_answer(incident, identifier(form, "answer_id"), body, *args)
        case "answer-decision":
            body = StatementDecision(person=person, decision=one(form, "decision"), comment=optional(form, "comment"))
            return await answers.decide_answer(incident, identifier(form, "answer_id"), number(form, "version"), body, *args)
        case "internal":
            audience = identifier(form, "audience")
            return await internal.revise_internal(incident, audience, InternalDraft(person=person, text=one(form, "text")), *args)
        case "internal-decision":
            body = StatementDecision(person=person, decision=one(form, "decision"), comment=optional(form, "comment"))
            return await internal.decide_internal(incident, identifier(form, "audience"), number(form, "version"), body, *args)
    raise HTTPException(404, f"form: there is no form '{form_name}' on the incident page")


def variant_field(message: str, form: dict[str, list[str]]) -> str:
    """The editor field a refusal of the draft's variants belongs to: 'variants: x: 312 weighted
    characters, over…' is the short form's (or the text's, when the short form is empty)."""
    channel, _, problem = message.removeprefix("variants:").split(";")[0].strip().partition(":")
    spec = CHANNELS.get(channel.strip())
    if spec is None:
        return "form"
    if "title" in problem:
        return "title"
    return "short" if spec.form is VariantForm.SHORT and one(form, "short") else "text"


PREVIEW_PART = "X-Crisis-Preview"  # crisis.js asks for the preview's parts alone (statement_preview_parts.html)


async def preview_in_the_editor(
    request: Request, incident: str, form: dict[str, list[str]], client, settings, catalog, session, caller
) -> HTMLResponse:
    """The editor's preview: its parts for the script as people type, or (no script: the Preview
    button) the whole page with the preview and the draft as typed."""
    values = {name: value[0] for name, value in form.items()}
    if not request.headers.get(PREVIEW_PART):
        return await incident_page_response(
            request,
            incident,
            client,
            settings,
            catalog,
            session,
            form=values,
            kept="statement",
            me=one(form, "person"),
        )
    typed = editor_values(values)
    preview = preview_error = None
    if typed["text"]:
        try:
            preview = await incidents.preview_statement(incident, StatementPreview(**typed), client, caller)
        except ValidationError as invalid:
            preview_error = refusal(invalid, set())[0]["message"]
    return templates.TemplateResponse(
        request,
        "statement_preview_parts.html",
        {"preview": preview, "preview_values": typed, "preview_error": preview_error},
    )


@router.post("/incidents/{incident}/view/{form_name}", response_class=HTMLResponse)
async def act_from_the_page(
    incident: IncidentId,
    form_name: FormName,
    request: Request,
    client: ClientDep,
    settings: SettingsDep,
    catalog: CatalogDep,
    session: SessionDep,
    caller: Responder,
):
    form = await read_form(request)
    key = one(form, "form_key") or form_name  # which of the page's forms (one per task, per approver role…)
    try:
        if form_name == "preview":
            return await preview_in_the_editor(request, incident, form, client, settings, catalog, session, caller)
        await perform(form_name, incident, form, client, settings, caller)
    except IncidentNotFound:
        raise HTTPException(404, f"incident '{incident}' does not exist") from None
    except (ValueError, HTTPException) as error:
        if isinstance(error, HTTPException) and error.status_code == 404 and "does not exist" in str(error.detail):
            raise
        problem, status = refusal(
            error, {name for name in form} | {"person", "text", "summary", "fields", "decision", "rating", "severity"}
        )
        if form_name == "statement" and problem["message"].startswith("variants:"):
            problem["field"] = variant_field(problem["message"], form)
        values = {name: value[0] for name, value in form.items()}
        return await incident_page_response(
            request,
            incident,
            client,
            settings,
            catalog,
            session,
            error={"form": key, **problem},
            form=values,
            status=status,
            me=one(form, "person"),
        )
    return RedirectResponse(f"/incidents/{incident}/view?{urlencode({'me': one(form, 'person')})}#{key}", status_code=303)
