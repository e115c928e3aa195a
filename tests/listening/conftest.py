"""Listening in process: the real API app and a real worker on the time-skipping Temporal server,
with a throwaway SQLite read model; the worker can be stopped and started again mid-test."""

import asyncio
import uuid
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest_asyncio
from temporalio.worker import Worker

from api.main import create_app
from settings import Settings
from store import mentions as store
from store.db import create_engine, create_schema, session_factory
from tests.conftest import API_HEADERS, TEST_API_KEY
from worker import build_activities, build_listening_activities, build_worker

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"


@dataclass
class Listening:
    settings: Settings
    client: object
    api: httpx.AsyncClient
    sessions: object
    worker: Worker | None = None
    _running: asyncio.Task | None = field(default=None, repr=False)

    def start_worker(self) -> None:
        sessions = self.sessions
        self.worker = build_worker(
            self.client,
            self.settings,
            build_activities(self.settings, sessions),
            build_listening_activities(self.client, self.settings, sessions),
        )
        self._running = asyncio.create_task(self.worker.run())

    async def stop_worker(self) -> None:
        await self.worker.shutdown()
        with suppress(asyncio.CancelledError):
            await self._running
        self.worker = None

    async def post(self, mentions: list[dict]) -> dict:
        response = await self.api.post("/mentions", json=mentions)
        assert response.status_code == 200, response.text
        return response.json()

    async def stored(self) -> int:
        async with self.sessions() as session:
            return await store.count_mentions(session)

    async def signals(self, status: str | None = None, until: int = 1, timeout: float = 20) -> list[dict]:
        """Poll GET /signals until at least ``until`` are there (in real time)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = (await self.api.get("/signals", params={"status": status} if status else {})).json()
            if len(found) >= until or asyncio.get_running_loop().time() > deadline:
                return found
            await asyncio.sleep(0.1)


@pytest_asyncio.fixture(loop_scope="session")
async def listening(time_skipping_env, tmp_path):
    async with open_listening(time_skipping_env, tmp_path, sentiment_processes=0) as ready:  # small batches: no pool needed
        yield ready


@pytest_asyncio.fixture(loop_scope="session")
async def listening_in_processes(time_skipping_env, tmp_path):
    """With the sentiment processes of a real deployment, for batches large enough to use them."""
    async with open_listening(time_skipping_env, tmp_path, sentiment_processes=2) as ready:
        yield ready


@asynccontextmanager
async def open_listening(time_skipping_env, tmp_path, sentiment_processes: int, playbooks: Path = PLAYBOOKS):
    """The API app and a worker on ``time_skipping_env``, the read model in ``tmp_path``, the topics
    of ``playbooks``' topics.yaml (tests/histories/record.py edits a copy of it)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'crisis.db'}"
    engine = create_engine(url)
    await create_schema(engine)
    settings = Settings(
        CRISIS_DATA_DIR=str(tmp_path),
        DATABASE_URL=url,
        CRISIS_PLAYBOOKS_DIR=str(playbooks),
        CRISIS_TASK_QUEUE=f"listening-{uuid.uuid4().hex[:8]}",
        CRISIS_SENTIMENT_PROCESSES=sentiment_processes,
        CRISIS_API_KEY=TEST_API_KEY,
    )
    app = create_app(settings, temporal=time_skipping_env.client)
    try:
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=30, headers=API_HEADERS
            ) as api:
                ready = Listening(settings, time_skipping_env.client, api, session_factory(engine))
                ready.start_worker()
                try:
                    yield ready
                finally:
                    if ready.worker is not None:
                        await ready.stop_worker()
    finally:
        await engine.dispose()
