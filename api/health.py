from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

from store.db import ping

router = APIRouter(tags=["health"])
_TIMEOUT = timedelta(seconds=3)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Temporal or the database does not answer"}})
async def readyz(request: Request) -> JSONResponse:
    """Ready to serve: Temporal and the database both answer."""
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
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status_code=200 if ready else 503, headers={} if ready else {"Retry-After": "5"}
    )
