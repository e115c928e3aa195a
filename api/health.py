from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

from store.db import ping
from store.service import incidents_with_data_errors

router = APIRouter(tags=["health"])
_TIMEOUT = timedelta(seconds=3)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Temporal or the database does not answer"}})
async def readyz(request: Request) -> JSONResponse:
    """Ready to serve: Temporal and the database both answer. ``warnings`` names open incidents whose
    data the database refused (ready all the same: the API works, but someone must look)."""
    checks = {}
    try:
        await request.app.state.temporal.workflow_service.get_system_info(GetSystemInfoRequest(), timeout=_TIMEOUT)
        checks["temporal"] = "ok"
    except Exception as error:  # any failure to answer means not ready
        checks["temporal"] = f"unavailable: {type(error).__name__}"
    try:
        await ping(request.app.state.engine)
        checks["database"] = "ok"
    except Exception as error:
        checks["database"] = f"unavailable: {type(error).__name__}"
    ready = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    if checks["database"] == "ok":
        # Ready, but someone must look: incidents whose data the database refused (their timelines say what).
        try:
            async with request.app.state.sessions() as session:
                refused = await incidents_with_data_errors(session)
        except Exception as error:  # the database stopped answering since the ping
            refused, body["warnings"] = [], [f"incidents with refused data could not be listed: {type(error).__name__}"]
        if refused:
            body["warnings"] = [
                f"the database refused data of {len(refused)} open incident(s): {', '.join(refused)}; see their timelines"
            ]
    return JSONResponse(body, status_code=200 if ready else 503, headers={} if ready else {"Retry-After": "5"})
