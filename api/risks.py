"""Preparedness: the risk register with each risk's readiness, as JSON and as a page with a heat map."""

from datetime import datetime, timezone
from pathlib import Path as FilePath

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field

from api.deps import CatalogDep, SessionDep
from domain.durations import format_duration
from domain.readiness import Readiness, RiskReadiness, assess
from domain.risks import SCALE, Band, band_of
from store import service

templates = Jinja2Templates(directory=FilePath(__file__).parent / "templates")
router = APIRouter(tags=["preparedness"])


class CheckOut(BaseModel):
    name: str = Field(description="playbook, escalation, contacts, templates, answers or drill")
    status: str = Field(description="pass or fail (a playbook never drilled fails the drill check)")
    detail: str
    fix: str | None = Field(description="What to change to pass; null when it passes.")


class RiskOut(BaseModel):
    id: str
    title: str
    scenario: str
    description: str
    likelihood: int
    impact: int
    priority: int = Field(description="likelihood × impact, 1–25")
    band: str = Field(description="low 1–4, medium 5–9, high 10–16, critical 20–25")
    audiences: list[str]
    owner: str
    playbook: str
    drill_every: str
    last_drill: str | None = Field(description="Date of the last drill of the playbook; null: never drilled.")
    ready: bool
    score: float = Field(description="Share of passed checks, 0–1.")
    checks: list[CheckOut]


class RiskRegisterOut(BaseModel):
    organization: str
    score: float = Field(description="Priority-weighted readiness of all risks, 0–1.")
    ready: int
    total: int
    blocking: list[str] = Field(description="Critical risks that are not ready.")
    risks: list[RiskOut]


def _risk_out(result: RiskReadiness) -> RiskOut:
    risk = result.risk
    return RiskOut(
        id=risk.id,
        title=risk.title,
        scenario=risk.scenario.value,
        description=risk.description,
        likelihood=risk.likelihood,
        impact=risk.impact,
        priority=risk.priority,
        band=risk.band.value,
        audiences=risk.audiences,
        owner=risk.owner,
        playbook=risk.playbook,
        drill_every=format_duration(risk.drill_every),
        last_drill=result.last_drill.isoformat() if result.last_drill else None,
        ready=result.ready,
        score=round(result.score, 3),
        checks=[CheckOut(name=c.name, status=c.status.value, detail=c.detail, fix=c.fix) for c in result.checks],
    )


async def _readiness(catalog, session) -> Readiness:
    """Readiness with each playbook's last drill from the drill records (drills run to their end)."""
    drilled = {playbook: at.date() for playbook, at in (await service.last_drills(session)).items()}
    return assess(catalog, datetime.now(timezone.utc).date(), last_drills=drilled)


@router.get("/risks", response_model=RiskRegisterOut)
async def list_risks(catalog: CatalogDep, session: SessionDep) -> RiskRegisterOut:
    """The risk register, highest priority first, with each risk's readiness checks and their fixes."""
    readiness = await _readiness(catalog, session)
    return RiskRegisterOut(
        organization=catalog.roster.organization.name,
        score=round(readiness.score, 3),
        ready=readiness.ready,
        total=len(readiness.risks),
        blocking=[r.risk.id for r in readiness.blocking],
        risks=[_risk_out(r) for r in readiness.risks],
    )


# ---- the heat map, drawn on the server -------------------------------------------------------

CELL = 96
MARGIN_LEFT = 80
MARGIN_TOP = 16
MARGIN_BOTTOM = 56
FILL = {Band.LOW: "#cfe8cf", Band.MEDIUM: "#fbe7a1", Band.HIGH: "#f8c08a", Band.CRITICAL: "#f19a9a"}
LIKELIHOOD = {1: "rare", 2: "unlikely", 3: "possible", 4: "likely", 5: "almost certain"}
IMPACT = {1: "negligible", 2: "minor", 3: "moderate", 4: "major", 5: "severe"}


def heat_map(readiness: Readiness) -> dict:
    """Geometry for the SVG template: 5 × 5 cells (likelihood → right, impact ↑) and one marker per risk."""
    cells = []
    for likelihood in SCALE:
        for impact in SCALE:
            band = band_of(likelihood * impact)
            here = [r for r in readiness.risks if (r.risk.likelihood, r.risk.impact) == (likelihood, impact)]
            x = MARGIN_LEFT + (likelihood - 1) * CELL
            y = MARGIN_TOP + (5 - impact) * CELL
            markers = []
            for index, result in enumerate(here):
                column, row = index % 3, index // 3
                markers.append(
                    {
                        "number": readiness.risks.index(result) + 1,
                        "result": result,
                        "cx": x + 18 + column * 30,
                        "cy": y + 20 + row * 30,
                    }
                )
            cells.append(
                {
                    "likelihood": likelihood,
                    "impact": impact,
                    "band": band.value,
                    "fill": FILL[band],
                    "x": x,
                    "y": y,
                    "markers": markers,
                }
            )
    return {
        "cells": cells,
        "size": CELL,
        "width": MARGIN_LEFT + 5 * CELL + 8,
        "height": MARGIN_TOP + 5 * CELL + MARGIN_BOTTOM,
        "left": MARGIN_LEFT,
        "top": MARGIN_TOP,
        "x_labels": [{"x": MARGIN_LEFT + (v - 1) * CELL + CELL / 2, "value": v, "label": LIKELIHOOD[v]} for v in SCALE],
        "y_labels": [{"y": MARGIN_TOP + (5 - v) * CELL + CELL / 2, "value": v, "label": IMPACT[v]} for v in SCALE],
        "bands": [{"band": band.value, "fill": FILL[band]} for band in Band],
    }


@router.get("/risks/view", response_class=HTMLResponse, include_in_schema=False)
async def risks_page(request: Request, catalog: CatalogDep, session: SessionDep) -> HTMLResponse:
    readiness = await _readiness(catalog, session)
    return templates.TemplateResponse(
        request,
        "risks.html",
        {"readiness": readiness, "map": heat_map(readiness), "organization": catalog.roster.organization.name},
    )
