"""The API (in process, over ASGI) and a real worker on a Temporal test server, as they run in
production, with a throwaway SQLite read model: what the API tests that need a running incident, the
long incident (tests/long_incident.py) and its benchmark share."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from settings import Settings
from store.db import create_engine, create_schema, session_factory
from tests.conftest import API_HEADERS, TEST_API_KEY
from worker import build_activities, build_listening_activities, build_worker

PLAYBOOKS = Path(__file__).resolve().parents[1] / "playbooks"


@dataclass
class Stack:
    http: httpx.AsyncClient
    env: WorkflowEnvironment
    sessions: object


@asynccontextmanager
async def open_stack(env: WorkflowEnvironment, folder: Path) -> AsyncIterator[Stack]:
    """The API (in process, over ASGI) and the worker, on ``env`` and a SQLite read model in ``folder``."""
    url = f"sqlite+aiosqlite:///{folder / 'crisis.db'}"
    engine = create_engine(url)
    await create_schema(engine)
    settings = Settings(
        CRISIS_DATA_DIR=str(folder),
        DATABASE_URL=url,
        CRISIS_PLAYBOOKS_DIR=str(PLAYBOOKS),
        CRISIS_API_KEY=TEST_API_KEY,
        CRISIS_TASK_QUEUE=f"stack-{uuid.uuid4().hex[:8]}",
        CRISIS_SENTIMENT_PROCESSES=0,
        CRISIS_PUBLIC_URL="http://test",
    )
    client = env.client
    sessions = session_factory(engine)
    # A long incident's month of updates is thousands of state queries: on a loaded 2-core machine one
    # may wait more than the 2 s Temporal's deadlock detection allows for the CPU, which says nothing
    # about the workflow.
    worker = build_worker(
        client,
        settings,
        build_activities(settings, sessions),
        build_listening_activities(client, settings, sessions),
        debug_mode=True,
    )
    running = asyncio.create_task(worker.run())
    app = create_app(settings, temporal=client)
    try:
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=60, headers=API_HEADERS
            ) as http:
                yield Stack(http, env, sessions)
    finally:
        await worker.shutdown()
        with suppress(asyncio.CancelledError):
            await running
        await engine.dispose()
