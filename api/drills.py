"""Drills over HTTP: run one now, list what was drilled, and recurring drills as Temporal Schedules."""

import secrets
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response
from pydantic import BaseModel
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleSpec,
    ScheduleState,
)
from temporalio.service import RPCError, RPCStatusCode

from api.auth import Administrator, Declarer, Scope, require_scope
from api.deps import CatalogDep, ClientDep, SessionDep, SettingsDep
from domain.drills import MAX_INTERVAL, MIN_INTERVAL, DrillProblem, DrillRequest, DrillSchedule, drill_plan
from domain.durations import format_duration
from services.declare import IncidentLinks, incident_links
from services.temporal import incident_id, start_incident
from store import service
from workflows.drill import ScheduledDrillWorkflow

router = APIRouter(prefix="/drills", tags=["drills"])
SCHEDULE_PREFIX = "drill-"
ScheduleId = Annotated[str, Path(max_length=120, pattern=r"^drill-[A-Za-z0-9_.-]+$")]


class StartedDrill(BaseModel):
    id: str
    title: str
    playbook: str
    severity: str
    participants: list[str]
    links: IncidentLinks
    report: str


class DrillRecord(BaseModel):
    id: str
    title: str
    playbook: str
    scenario: str
    severity: str
    phase: str
    status: str
    declared_at: datetime
    closed_at: datetime | None
    deadlines_met: int | None
    deadlines_missed: int | None
    report: str


class ScheduledDrill(BaseModel):
    id: str
    playbook: str
    every: str
    participants: list[str]
    severity: str | None
    next_run: datetime | None
    recent_runs: list[str]


def _plan(catalog, request: DrillRequest, incident: str):
    try:
        return drill_plan(catalog, request, incident)
    except DrillProblem as problem:
        raise HTTPException(422, problem.message) from None


@router.post(
    "",
    status_code=201,
    response_model=StartedDrill,
    responses={422: {"description": "Unknown playbook, participant or language"}},
)
async def start_drill(
    request: DrillRequest, response: Response, client: ClientDep, catalog: CatalogDep, settings: SettingsDep, caller: Declarer
) -> StartedDrill:
    """Run a playbook as an exercise: every message marked [DRILL], only the participants paged
    (all the team when none are named), nothing published outside the outbox, CrisisDrill=true."""
    plan = _plan(catalog, request, incident_id(None)).model_copy(update={"declared_via": caller.via})
    await start_incident(client, settings.task_queue, plan)
    response.headers["Location"] = f"/incidents/{plan.id}"
    return StartedDrill(
        id=plan.id,
        title=plan.title,
        playbook=plan.playbook.id,
        severity=plan.severity.value,
        participants=plan.participants,
        links=incident_links(settings, plan.id),
        report=f"/incidents/{plan.id}/report",
    )


@router.get("", response_model=list[DrillRecord])
async def list_drills(session: SessionDep) -> list[DrillRecord]:
    """Every drill run, newest first, with its score once it reached its review."""
    rows = await service.list_drills(session)
    return [
        DrillRecord(
            id=row.id,
            title=row.title,
            playbook=row.playbook,
            scenario=row.scenario,
            severity=row.severity,
            phase=row.phase,
            status=row.status,
            declared_at=row.declared_at,
            closed_at=row.closed_at,
            deadlines_met=metrics.deadlines_met if metrics else None,
            deadlines_missed=metrics.deadlines_missed if metrics else None,
            report=f"/incidents/{row.id}/report",
        )
        for row, metrics in rows
    ]


@router.post(
    "/schedules",
    status_code=201,
    response_model=ScheduledDrill,
    responses={422: {"description": "Unknown playbook or participant, or an interval under 1d or over 5 years"}},
)
async def schedule_drill(
    body: DrillSchedule, client: ClientDep, catalog: CatalogDep, settings: SettingsDep, caller: Administrator
) -> ScheduledDrill:
    """A recurring drill: a Temporal Schedule that runs the playbook (as it is on the day) every
    ``every``; each run is declared in the name of the key that made the schedule."""
    if body.every < MIN_INTERVAL:
        raise HTTPException(422, f"every: drills recur at most daily; '{format_duration(body.every)}' is shorter than 1d")
    if body.every > MAX_INTERVAL:
        raise HTTPException(
            422, f"every: '{format_duration(body.every)}' is longer than 5 years; drills recur at least that often"
        )
    _plan(catalog, body.request(), "inc-check")  # refused now rather than failing at every run
    schedule_id = f"{SCHEDULE_PREFIX}{body.playbook}-{secrets.token_hex(4)}"
    every = format_duration(body.every)
    handle = await client.create_schedule(
        schedule_id,
        Schedule(
            action=ScheduleActionStartWorkflow(
                ScheduledDrillWorkflow.run,
                body.request(declared_via=f"schedule, {caller.via}"),
                id=f"{schedule_id}-run",
                task_queue=settings.task_queue,
                static_summary=f"[DRILL] scheduled drill of {body.playbook}",
            ),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=body.every)]),
            state=ScheduleState(note=f"Drill of {body.playbook} every {every}"),
        ),
        memo={
            "playbook": body.playbook,
            "every": every,
            "participants": body.participants,
            "severity": body.severity and body.severity.value,
        },
    )
    return await _describe(client, handle.id)


async def _describe(client: Client, schedule_id: str) -> ScheduledDrill:
    description = await client.get_schedule_handle(schedule_id).describe()
    memo = await description.memo()
    intervals = description.schedule.spec.intervals
    return ScheduledDrill(
        id=schedule_id,
        playbook=memo.get("playbook", ""),
        every=format_duration(intervals[0].every) if intervals else memo.get("every", ""),
        participants=memo.get("participants") or [],
        severity=memo.get("severity"),
        next_run=description.info.next_action_times[0] if description.info.next_action_times else None,
        recent_runs=[result.action.workflow_id for result in description.info.recent_actions],
    )


@router.get("/schedules", response_model=list[ScheduledDrill])
async def list_schedules(client: ClientDep) -> list[ScheduledDrill]:
    """Every recurring drill, with its next run."""
    found = []
    async for listed in await client.list_schedules():
        if listed.id.startswith(SCHEDULE_PREFIX):
            try:
                found.append(await _describe(client, listed.id))
            except RPCError as error:
                if error.status != RPCStatusCode.NOT_FOUND:  # deleted since it was listed
                    raise
    return sorted(found, key=lambda schedule: schedule.id)


@router.delete(
    "/schedules/{schedule}",
    status_code=204,
    dependencies=[require_scope(Scope.ADMIN)],
    responses={404: {"description": "No such drill schedule"}},
)
async def unschedule_drill(schedule: ScheduleId, client: ClientDep) -> Response:
    """Stop a recurring drill (drills already running carry on)."""
    try:
        await client.get_schedule_handle(schedule).delete()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise HTTPException(404, f"drill schedule '{schedule}' does not exist") from None
        raise
    return Response(status_code=204)
