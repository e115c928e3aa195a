"""The FastAPI application factory."""

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from temporalio.client import Client
from temporalio.service import RPCError

from api import action_links, catalog, health, incidents, mentions, outbox, pages, risks, signals, sms_replies, webhooks
from api import metrics as api_metrics
from api.limits import BodySizeLimit
from api.sentiment_pool import SentimentScorer
from api.settings import Settings
from domain.catalog import load_catalog
from store.db import create_engine, session_factory
from store.migrate import check_schema
from worker import connect


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
        app.state.temporal = temporal or await connect(settings)
        app.state.sentiment = SentimentScorer(settings.sentiment_processes)
        yield
        app.state.sentiment.close()
        await engine.dispose()

    app = FastAPI(
        title="crisisflow",
        version="0.1.0",
        description="Social-media crisis playbooks run as durable Temporal workflows.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.catalog = catalog_at_start
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes, per_path={"/mentions": settings.mentions_max_body_bytes})
    app.state.metrics = api_metrics.ApiMetrics()
    app.add_middleware(api_metrics.ObservedRequests, metrics=app.state.metrics)  # outermost: times everything

    @app.exception_handler(RPCError)
    async def temporal_unavailable(_request: Request, error: RPCError) -> JSONResponse:
        return JSONResponse({"detail": f"Temporal did not answer: {error.message}"}, status_code=503)

    for module in (health, catalog, risks, incidents, outbox, pages, action_links, sms_replies, webhooks, mentions, signals):
        app.include_router(module.router)
    app.include_router(api_metrics.router)
    return app
