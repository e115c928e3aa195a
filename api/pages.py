"""Web pages for people: the triage dashboard and one page per incident, where everything waiting
on a person can be done (the forms post to api/room.py, which calls the API's own routes).

Pages work without script; /static/crisis.js adds what a page cannot do alone: times in the
reader's zone, running countdowns, live statement counters, and refreshing the page's live parts
every second or so (with a notice when the connection is lost)."""

from datetime import datetime, timezone
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Path, Query, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import CatalogDep, ClientDep, SessionDep, SettingsDep
from api.mention_chart import conversation_svg, incident_conversation, replies_svg
from api.mentions import replies_to_statements
from api.worddiff import word_diff
from channels.registry import default_publishing_targets
from domain.actions import StatementPreview
from domain.factsheet import FactSheetFields
from domain.incident import IncidentStatus, IncidentView, PendingItem, Phase, StatementStatus
from domain.preview import DraftPreview
from domain.severity import Level, Severity
from domain.times import readable, utc
from domain.variants import CHANNELS, Form
from services.temporal import IncidentNotFound, query_preview, query_state
from store import ledger, service
from store import mentions as listening_store

templates = Jinja2Templates(directory=FilePath(__file__).parent / "templates")
templates.env.filters["readable"] = readable
router = APIRouter(include_in_schema=False)

SEVERITY_ORDER = {severity.value: rank for rank, severity in enumerate(Severity)}
ACTIVE_PHASES = (Phase.RESPOND, Phase.COMMUNICATE)
FACT_FIELDS = [
    {
        "name": name,
        "label": name.replace("_", " ").capitalize(),
        "help": field.description,
        "long": name not in ("headline", "status_page", "faq"),
        "max": next((m.max_length for m in field.metadata if hasattr(m, "max_length")), None),
    }
    for name, field in FactSheetFields.model_fields.items()
]


def wants_html(request: Request) -> bool:
    """A browser navigating (``Accept: text/html,…``) rather than an API client: JSON stays the
    answer for ``Accept: application/json``, ``*/*`` and no Accept at all."""
    accept = request.headers.get("accept", "")
    if "text/html" not in accept:
        return False
    return "application/json" not in accept or accept.index("text/html") < accept.index("application/json")


LIVE_REFRESH = "X-Crisis-Live"  # crisis.js fetching the page it shows, to swap in what changed
ERROR_HEADINGS = {403: "Not allowed", 404: "Not found", 409: "Not now", 410: "No longer here", 422: "That cannot be taken"}


def install_error_pages(app: FastAPI) -> None:
    """A person in a browser who opens a page that is not there, or sends a form their key may not,
    reads why in a page of the room; API clients keep FastAPI's JSON ``{"detail": …}``."""

    @app.exception_handler(StarletteHTTPException)
    async def error_page(request: Request, error: StarletteHTTPException):
        if wants_html(request):  # a page, or a form of a page (a key without the scope for it, an incident gone)
            heading = ERROR_HEADINGS.get(error.status_code, "Something went wrong")
            detail = error.detail if isinstance(error.detail, str) else "The request cannot be answered."
            return templates.TemplateResponse(
                request,
                "error.html",
                {"heading": heading, "detail": detail},
                status_code=error.status_code,
                headers=error.headers,
            )
        return await http_exception_handler(request, error)


def _moment(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return utc(value)


def iso(value: Any) -> str:
    moment = _moment(value)
    return moment.isoformat().replace("+00:00", "Z") if moment else ""


templates.env.filters["iso"] = iso


def people_names(catalog) -> dict[str, str]:
    return {person.id: person.name for person in catalog.roster.people}


def role_name(role: str) -> str:
    return role.replace("_", " ").capitalize()


templates.env.filters["role"] = role_name


def humane(title: str, item: PendingItem | dict) -> str:
    """A pending item's title with its role by name: 'Approve statement v1 as Legal', not 'as legal'
    (an item of the incident's view, or of the read model's JSON on the dashboard)."""
    role = item.get("role") if isinstance(item, dict) else getattr(item, "role", None)
    return title.replace(f"as {role}", f"as {role_name(role)}") if role else title


templates.env.filters["humane"] = humane


def triage(incidents: list, now: datetime) -> list[dict[str, Any]]:
    """Open incidents first, by severity (SEV1 first), then those with something overdue, then the
    soonest next deadline; each with its next deadline and whether anything is overdue."""
    rows = []
    for incident in incidents:
        dues = sorted(_moment(item.get("due_at")) for item in incident.pending if item.get("due_at"))
        rows.append(
            {
                "incident": incident,
                "next_due": dues[0] if dues else None,
                "overdue": bool(dues and dues[0] < now),
                "open": incident.status != "closed",
            }
        )
    far = datetime.max.replace(tzinfo=timezone.utc)
    rows.sort(
        key=lambda row: (
            not row["open"],
            SEVERITY_ORDER.get(row["incident"].severity, 9),
            not row["overdue"],
            row["next_due"] or far,
        )
    )
    return rows


@router.get("/", response_class=HTMLResponse)
async def dashboard(request: Request, session: SessionDep, settings: SettingsDep, catalog: CatalogDep) -> HTMLResponse:
    return await dashboard_page(request, session, settings, catalog)


async def dashboard_page(
    request: Request, session, settings, catalog, form: dict | None = None, error: dict | None = None, status: int = 200
) -> HTMLResponse:
    now = datetime.now(timezone.utc)
    rows = triage(await service.list_incidents(session, limit=200), now)
    signals = await listening_store.list_signals(session, status="suggested", limit=50)
    return templates.TemplateResponse(
        request,
        "dashboard.html",
        {
            "live": [row for row in rows if not row["incident"].drill],
            "drills": [row for row in rows if row["incident"].drill],
            "settings": settings,
            "signals": signals,
            "names": people_names(catalog),
            "playbooks": sorted(catalog.playbooks.values(), key=lambda p: p.id),
            "severities": [s.value for s in Severity],
            "form": form or {},
            "error": error,
            "people": catalog.roster.people,
        },
        status_code=status,
    )


def statement_context(incident: IncidentView) -> dict[str, Any]:
    """The statement awaiting approval (if any) with a word diff against the last published version
    (or, before anything was published, the version it revises), and the text to start a draft from."""
    statements = incident.statements
    awaiting = next((s for s in reversed(statements) if s.status is StatementStatus.PENDING_APPROVAL), None)
    published = [s for s in statements if s.status is StatementStatus.PUBLISHED]
    baseline = published[-1] if published else None
    if awaiting and baseline is None:
        earlier = [s for s in statements if s.version < awaiting.version]
        baseline = earlier[-1] if earlier else None
    latest = statements[-1] if statements else None
    variants = latest.variants if latest else []
    short = next((v.text for v in variants if CHANNELS[v.channel].form is Form.SHORT), "")
    return {
        "awaiting": awaiting,
        "baseline": baseline,
        "diff": word_diff(baseline.text, awaiting.text) if awaiting and baseline else [],
        "draft_text": latest.text if latest else "",
        "draft_short": short if latest and short != latest.text else "",
        "draft_title": next((v.title for v in variants if v.title), ""),
    }


def editor_values(form: dict[str, str]) -> dict[str, str | None]:
    """The statement editor's fields as a draft takes them: an empty short form or title is none."""
    return {name: (form.get(name) or "").strip() or None for name in ("text", "short", "title")}


async def statement_preview(client, incident: str, values: dict[str, str | None]) -> tuple[DraftPreview | None, str | None]:
    """The editor's preview of the draft as typed, or why there is none (an empty text, a field too long)."""
    if not values["text"]:
        return None, None
    try:
        draft = StatementPreview(**values)
    except ValidationError as invalid:
        problem = invalid.errors()[0]
        return None, f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
    return await query_preview(client, incident, draft), None


async def incident_page_response(
    request: Request,
    incident: str,
    client,
    settings,
    catalog,
    session,
    error: dict | None = None,
    form: dict | None = None,
    status: int = 200,
    me: str | None = None,
    kept: str | None = None,
) -> HTMLResponse:
    """The incident page; after a refusal (``error``) or a preview without script (``kept``: that
    form's key) the form shows what was typed."""
    try:
        state = await query_state(client, incident)
    except IncidentNotFound:
        return templates.TemplateResponse(request, "not_found.html", {"incident": incident}, status_code=404)
    # The incident's own kit (pinned, adapted through approvals) is in its language; the playbook's kit as it is in the
    # folder now serves the other languages, and every language of an incident declared before kits were pinned.
    kit = catalog.answers.get(state.playbook)
    languages = sorted(kit.languages, key=lambda language: language != state.language) if kit else []
    if state.answers_kit:
        languages = [language for language in languages if language != state.language]
    talk = await incident_conversation(session, catalog, state)
    playbook = catalog.playbooks.get(state.playbook)
    communicate = playbook.communicate if playbook else None
    me = me if me and catalog.roster.person(me) else None
    # What waits on the reader first (when they said who they are), then the rest, soonest due first.
    far = datetime.max.replace(tzinfo=timezone.utc)
    pending = sorted(state.pending, key=lambda item: (me not in item.people, item.due_at is None, item.due_at or far))
    publishing = await ledger.publishing_state(session, incident)
    replies = {
        item["version"]: {**item, "chart": replies_svg(item["version"], item)}
        for item in await replies_to_statements(session, incident)
    }
    targets = (communicate.publish_to or default_publishing_targets(settings)) if communicate else []
    editor = statement_context(state)
    # As the domain's statements_open: in the communicate phase, and from the holding point on.
    can_draft = state.status is IncidentStatus.OPEN and (
        state.phase is Phase.COMMUNICATE or bool(state.holding_started_at) and state.phase in ACTIVE_PHASES
    )
    typed = form if form and "statement" in (kept, (error or {}).get("form")) else None
    preview_values = (
        editor_values(typed)
        if typed
        else {"text": editor["draft_text"], "short": editor["draft_short"], "title": editor["draft_title"]}
    )
    # The page's own refresh (crisis.js, every second) never swaps the editor in place, and asks for its preview apart.
    wanted = can_draft and not request.headers.get(LIVE_REFRESH)
    preview, preview_error = await statement_preview(client, incident, editor_values(preview_values)) if wanted else (None, None)
    return templates.TemplateResponse(
        request,
        "incident.html",
        {
            "incident": state,
            "settings": settings,
            "temporal_url": settings.workflow_url(incident),
            "kit": kit,
            "kit_languages": languages,
            "conversation": talk,
            "conversation_chart": conversation_svg(talk) if talk else None,
            "pending": pending,
            "names": people_names(catalog),
            "people": catalog.roster.people,
            "targets": targets,
            "publishing": publishing,
            "replies": replies,
            "max_length": communicate.max_length if communicate else None,
            "fact_fields": FACT_FIELDS,
            "severities": [s.value for s in Severity],
            "levels": [level.value for level in Level],
            "can_draft": can_draft,
            "preview": preview,
            "preview_values": preview_values,
            "preview_error": preview_error,
            "error": error,
            "form": form or {},
            "kept": kept,
            "me": me,
            **editor,
        },
        status_code=status,
    )


@router.get("/incidents/{incident}/view", response_class=HTMLResponse)
async def incident_page(
    incident: Annotated[str, Path(max_length=64)],
    request: Request,
    client: ClientDep,
    settings: SettingsDep,
    catalog: CatalogDep,
    session: SessionDep,
    me: Annotated[
        str | None, Query(max_length=100, description="The reader's person id: what waits on them comes first.")
    ] = None,
) -> HTMLResponse:
    return await incident_page_response(request, incident, client, settings, catalog, session, me=me)
