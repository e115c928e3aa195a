"""Web pages for people: the dashboard and one page per incident."""

from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.deps import CatalogDep, ClientDep, SessionDep, SettingsDep
from api.mention_chart import conversation_svg, incident_conversation
from api.temporal import IncidentNotFound, query_state
from domain.times import readable
from store import mentions as listening_store
from store import service

templates = Jinja2Templates(directory=FilePath(__file__).parent / "templates")
templates.env.filters["readable"] = readable
router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def dashboard(request: Request, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    incidents = await service.list_incidents(session, limit=200)
    signals = await listening_store.list_signals(session, status="suggested", limit=50)
    return templates.TemplateResponse(
        request, "dashboard.html", {"incidents": incidents, "settings": settings, "signals": signals}
    )


@router.get("/incidents/{incident}/view", response_class=HTMLResponse)
async def incident_page(
    incident: Annotated[str, Path(max_length=64)], request: Request, client: ClientDep, settings: SettingsDep, catalog: CatalogDep,
    session: SessionDep,
) -> HTMLResponse:
    try:
        state = await query_state(client, incident)
    except IncidentNotFound:
        return templates.TemplateResponse(request, "not_found.html", {"incident": incident}, status_code=404)
    # The incident's own kit (pinned, adapted through approvals) is in its language; the playbook's kit as it is in the
    # folder now serves the other languages, and every language of an incident declared before kits were pinned.
    kit = catalog.answers.get(state.get("playbook", ""))
    languages = sorted(kit.languages, key=lambda language: language != state.get("language")) if kit else []
    if state.get("answers_kit"):
        languages = [language for language in languages if language != state.get("language")]
    talk = await incident_conversation(session, catalog, state)
    return templates.TemplateResponse(
        request, "incident.html",
        {"incident": state, "settings": settings, "temporal_url": settings.workflow_url(incident), "kit": kit, "kit_languages": languages,
         "conversation": talk, "conversation_chart": conversation_svg(talk) if talk else None},
    )
