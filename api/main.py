"""The FastAPI application factory."""

import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import Client, RPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from api import (
    action_links,
    answers,
    apikeys,
    auth,
    calls,
    catalog,
    docs,
    drills,
    health,
    incidents,
    internal,
    mentions,
    outbox,
    pages,
    reports,
    review,
    risks,
    room,
    security,
    signals,
    signin,
    slack,
    sms_replies,
    webhooks,
)
from api import metrics as api_metrics
from api.deps import RETRY_AFTER_S
from api.limits import BodySizeLimit, JsonDepthLimit, describe_depth_limit
from api.sentiment_pool import SentimentScorer
from channels.doctor import webhook_warnings
from domain.catalog import load_catalog
from services.temporal_connection import connect
from settings import Settings
from store import apikeys as keys
from store.db import create_engine, session_factory
from store.migrate import check_schema

log = logging.getLogger("crisisflow.api")


def create_app(settings: Settings | None = None, temporal: Client | None = None) -> FastAPI:
    """Build the app. The playbooks folder is loaded (and must validate) before the app serves."""
    settings = settings or Settings()
    catalog_at_start = load_catalog(settings.playbooks_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        engine = create_engine(settings.database_url, settings.db_pool_size, settings.db_max_overflow)
        try:
            await check_schema(engine)  # behind the code: refuse, naming `crisis db upgrade`
        except Exception:
            await engine.dispose()
            raise
        app.state.engine = engine
        app.state.sessions = session_factory(engine)
        if settings.api_key is not None:  # the bootstrap admin key: created once, never revived once revoked
            async with app.state.sessions() as session:
                await keys.ensure(session, settings.api_key.get_secret_value(), BOOTSTRAP_KEY_NAME, [auth.Scope.ADMIN.value])
        for warning in webhook_warnings(settings):
            log.warning(warning)
        app.state.temporal = temporal or await connect(settings, bounded=True)
        app.state.sentiment = SentimentScorer(settings.sentiment_processes)
        yield
        app.state.sentiment.close()
        await engine.dispose()

    app = FastAPI(
        title="crisisflow",
        version="0.1.0",
        description="Social-media crisis playbooks run as durable Temporal workflows.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served by api/docs.py, behind a key like every read
        dependencies=[Depends(auth.authenticate)],  # every route needs a key unless api/auth.py lists it as open
    )
    app.state.settings = settings
    app.state.catalog = catalog_at_start
    app.state.limiters = {}
    app.add_middleware(JsonDepthLimit)  # inside the size limit: only bodies of an allowed size are read
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes, per_path={"/mentions": settings.mentions_max_body_bytes})
    security.install(app, settings)  # CORS (off by default) and the security headers, outside the size limit
    app.state.metrics = api_metrics.ApiMetrics()
    app.add_middleware(api_metrics.ObservedRequests, metrics=app.state.metrics)  # outermost: times everything

    @app.exception_handler(RPCError)
    @app.exception_handler(RPCTimeoutOrCancelledError)
    async def temporal_unavailable(_request: Request, error: Exception) -> JSONResponse:
        """Temporal down, frozen or past CRISIS_TEMPORAL_RPC_TIMEOUT: nothing was decided, ask again."""
        if isinstance(error, RPCError) and error.status != RPCStatusCode.DEADLINE_EXCEEDED:
            reason = error.message
        else:
            reason = f"no answer within {settings.temporal_rpc_timeout_s:g} s"
        return JSONResponse(
            {"detail": f"Temporal did not answer ({reason}); try again shortly"},
            status_code=503,
            headers={"Retry-After": RETRY_AFTER_S},
        )

    # A database that is restarting, failing over or locked: the read model is unavailable, not broken.
    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(ConnectionError)
    async def database_unavailable(_request: Request, error: Exception) -> JSONResponse:
        return JSONResponse(
            {"detail": f"the database did not answer ({type(error).__name__}); try again shortly"},
            status_code=503,
            headers={"Retry-After": RETRY_AFTER_S},
        )

    @app.exception_handler(405)
    async def method_not_allowed(request: Request, error: StarletteHTTPException):
        """Starlette's Allow names only the first route matching the path; name every method it has."""
        methods = {
            method for route in auth.api_routes(app) if route.path_regex.match(request.url.path) for method in route.methods
        }
        headers = {"Allow": ", ".join(sorted(methods | ({"HEAD"} if "GET" in methods else set())))} if methods else error.headers
        return JSONResponse({"detail": error.detail}, status_code=405, headers=headers)

    routers = (
        health,
        catalog,
        risks,
        incidents,
        answers,
        internal,
        review,
        reports,
        drills,
        outbox,
        pages,
        room,
        action_links,
        sms_replies,
        calls,
        slack,
        webhooks,
        mentions,
        signals,
        signin,
        apikeys,
        docs,
    )
    for module in routers:
        app.include_router(module.router)
    app.include_router(api_metrics.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    auth.install(app)
    pages.install_error_pages(app)
    incidents.describe_links(app)
    describe_depth_limit(app)
    return app


BOOTSTRAP_KEY_NAME = "bootstrap"
