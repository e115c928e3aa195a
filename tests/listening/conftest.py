"""Listening in process: the real API app and a real worker on the time-skipping Temporal server,
with a throwaway SQLite read model; the worker can be stopped and started again mid-test."""

import asyncio
import random
import uuid
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest_asyncio
from temporalio.worker import Worker

from api.main import create_app
from api.settings import Settings
from store import mentions as store
from store.db import create_engine, create_schema, session_factory
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
            self.client, self.settings, build_activities(self.settings, sessions),
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
    url = f"sqlite+aiosqlite:///{tmp_path / 'crisis.db'}"
    engine = create_engine(url)
    await create_schema(engine)
    settings = Settings(
        CRISIS_DATA_DIR=str(tmp_path), DATABASE_URL=url, CRISIS_PLAYBOOKS_DIR=str(PLAYBOOKS),
        CRISIS_TASK_QUEUE=f"listening-{uuid.uuid4().hex[:8]}", CRISIS_SENTIMENT_PROCESSES=0,  # small batches: no pool needed
    )
    app = create_app(settings, temporal=time_skipping_env.client)
    try:
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=30) as api:
                ready = Listening(settings, time_skipping_env.client, api, session_factory(engine))
                ready.start_worker()
                try:
                    yield ready
                finally:
                    if ready.worker is not None:
                        await ready.stop_worker()
    finally:
        await engine.dispose()


def post(at: datetime, text: str, number: int, platform: str = "x", reach: int | None = None, **extra) -> dict:
    return {
        "platform": platform, "external_id": f"{platform}-{number}", "author": f"user{number % 97}", "text": text,
        "url": f"https://{platform}.example/status/{number}", "created_at": at.isoformat(),
        "reach": reach if reach is not None else 50 + number % 1000, **extra,
    }


CALM = ["Morning flat white from Northwind, lovely", "Northwind queue is long today", "Trying the new Northwind oat latte",
        "northwind coffee is fine I guess", "Meeting a friend at Northwind later"]
ANGRY = ["Northwind, this is a disgrace. Terrible service, never again", "Northwind? awful, I want a refund",
         "Northwind staff were rude and the coffee was awful", "Worst experience ever at Northwind, horrible"]


def stream(start: datetime, minutes: int, per_minute: int, texts: list[str], first_number: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed + first_number)
    found = []
    number = first_number
    for minute in range(minutes):
        for _ in range(per_minute):
            at = start + timedelta(minutes=minute, seconds=rng.uniform(0, 59.9))
            found.append(post(at, rng.choice(texts), number))
            number += 1
    return sorted(found, key=lambda item: item["created_at"])


def minutes_ago(minutes: float) -> datetime:
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    return now - timedelta(minutes=minutes)
