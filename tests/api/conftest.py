"""The API in process, on a fresh database, with the admin key ``TEST_API_KEY`` and a stand-in for
Temporal in which no incident exists (what is under test here answers before any workflow would);
``api`` for the tests that need real incidents: the app with a real worker on the time-skipping server."""

import asyncio

import pytest
import pytest_asyncio
from fastapi.testclient import TestClient
from temporalio.service import RPCError, RPCStatusCode

from api.main import create_app
from settings import Settings
from store.db import create_engine, create_schema
from tests.app_stack import open_stack
from tests.conftest import API_HEADERS, TEST_API_KEY

BASE_URL = "http://testserver"


class NoIncidents:
    """A Temporal client for which no incident exists."""

    def get_workflow_handle(self, workflow_id):
        return self

    async def query(self, *args, **kwargs):
        raise RPCError("workflow not found", RPCStatusCode.NOT_FOUND, b"")

    async def describe(self):
        raise RPCError("workflow not found", RPCStatusCode.NOT_FOUND, b"")

    async def execute_update(self, *args, **kwargs):
        raise RPCError("workflow not found", RPCStatusCode.NOT_FOUND, b"")

    async def signal(self, *args, **kwargs):
        raise RPCError("workflow not found", RPCStatusCode.NOT_FOUND, b"")


def database_url(path) -> str:
    url = f"sqlite+aiosqlite:///{path}"

    async def prepare():
        engine = create_engine(url)
        await create_schema(engine)
        await engine.dispose()

    asyncio.run(prepare())
    return url


@pytest.fixture
def make_app(tmp_path):
    """``make_app(**settings)``: the app on a fresh database; CRISIS_API_KEY is TEST_API_KEY unless given."""

    def make(**settings):
        values = {
            "DATABASE_URL": database_url(tmp_path / "crisis.db"),
            "CRISIS_API_KEY": TEST_API_KEY,
            "CRISIS_PUBLIC_URL": BASE_URL,
            **settings,
        }
        return create_app(Settings(**values), temporal=NoIncidents())

    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def anonymous(app):
    """A client without a key (the app started: its bootstrap key exists)."""
    with TestClient(app, base_url=BASE_URL) as client:
        yield client


@pytest.fixture
def admin(app):
    """A client sending the admin key."""
    with TestClient(app, base_url=BASE_URL, headers=API_HEADERS) as client:
        yield client


def issue(admin, name: str, scopes: list[str]) -> dict[str, str]:
    """A new key with ``scopes``, made through the API; its headers."""
    made = admin.post("/apikeys", json={"name": name, "scopes": scopes})
    assert made.status_code == 201, made.text
    return {"Authorization": f"Bearer {made.json()['key']}"}


@pytest_asyncio.fixture(loop_scope="session")
async def api(time_skipping_env, tmp_path):
    """An httpx client of the app (over ASGI, with the admin key), whose incidents a real worker runs
    on the time-skipping server."""
    async with open_stack(time_skipping_env, tmp_path) as stack:
        yield stack.http
