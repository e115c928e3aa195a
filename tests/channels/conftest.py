"""Fixtures of the channel tests: the loopback provider fakes, a throwaway ledger database,
settings naming both, and the notify activity wired to real channels."""

import shutil
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import yaml

from activities.incident import IncidentActivities, RosterSource
from api.main import create_app
from channels.registry import build_channels
from settings import Settings
from store.db import create_engine, create_schema, session_factory
from tests.fakes.providers import FakeSendGrid, FakeTwilio

PROJECT = Path(__file__).resolve().parents[2]
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "f" * 32
API_KEY = "SG.crisisflow-tests.0123456789abcdefghijklmnop"
FROM_NUMBER = "+15005550006"
FROM_EMAIL = "crisis@northwind.example"
PUBLIC_URL = "https://crisis.northwind.example"

EWA = "ewa.lewandowska"  # in the shipped roster: +48601204311, ewa.lewandowska@northwind.example
INVALID_NUMBER = "+15005550001"  # the fake answers 400, Twilio error 21211


@pytest.fixture(scope="session")
def twilio_server():
    with FakeTwilio(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID) as fake:
        yield fake


@pytest.fixture(scope="session")
def sendgrid_server():
    with FakeSendGrid(api_key=API_KEY) as fake:
        yield fake


@pytest.fixture
def fake_twilio(twilio_server):
    twilio_server.reset()
    yield twilio_server
    twilio_server.reset()


@pytest.fixture
def fake_sendgrid(sendgrid_server):
    sendgrid_server.reset()
    yield sendgrid_server
    sendgrid_server.reset()


def provider_settings(tmp_path: Path, twilio_url: str | None = None, sendgrid_url: str | None = None, **overrides) -> Settings:
    values = {
        "CRISIS_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'crisis.db'}",
        "CRISIS_PUBLIC_URL": PUBLIC_URL,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_MESSAGING_SERVICE_SID": None,
        "TWILIO_API_URL": twilio_url,
        "SENDGRID_API_KEY": API_KEY,
        "SENDGRID_FROM_EMAIL": FROM_EMAIL,
        "SENDGRID_WEBHOOK_PUBLIC_KEY": None,
        "SENDGRID_API_URL": sendgrid_url,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def settings(tmp_path, fake_twilio, fake_sendgrid) -> Settings:
    return provider_settings(tmp_path, fake_twilio.url, fake_sendgrid.url)


@pytest_asyncio.fixture(loop_scope="session")
async def sessions(tmp_path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'ledger.db'}", single_connection=True)  # as the worker's
    await create_schema(engine)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
def small_playbooks(tmp_path_factory) -> Path:
    """The roster and one playbook: the app loads it at start, and five playbooks take long."""
    keep = {"team.yaml", "templates", "misinformation.yaml", "misinformation.en.j2", "misinformation.pl.j2"}
    target = tmp_path_factory.mktemp("playbooks") / "playbooks"
    shutil.copytree(PROJECT / "playbooks", target, ignore=lambda _dir, names: [n for n in names if n not in keep])
    return target


@pytest.fixture
def roster_dir(tmp_path) -> Path:
    """A private copy of the shipped roster, to give people numbers the fakes refuse."""
    folder = tmp_path / "playbooks"
    folder.mkdir()
    shutil.copy(PROJECT / "playbooks" / "team.yaml", folder / "team.yaml")
    return folder


def set_contact(roster_dir: Path, person: str, **contact: str) -> None:
    path = roster_dir / "team.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    entry = next(p for p in data["people"] if p["id"] == person)
    entry.update(contact)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def make_activities(settings: Settings, sessions, roster_dir: Path, timeout: float = 10.0) -> IncidentActivities:
    channels = build_channels(settings, sessions, timeout=timeout)
    return IncidentActivities(
        sessions=sessions, roster=RosterSource(roster_dir), channels=channels, public_url=settings.public_url
    )


def activity_info(environment, workflow_id: str = "inc-test", activity_id: str = "reminder.ack.ewa", attempt: int = 1):
    environment.info = replace(environment.info, workflow_id=workflow_id, activity_id=activity_id, attempt=attempt)
    return environment


@asynccontextmanager
async def running(settings: Settings, temporal: object | None = None):
    """The app with its lifespan run, on a database with the current schema. ``temporal``: what
    stands for the Temporal client (nothing that reaches it by default)."""
    engine = create_engine(settings.database_url)
    await create_schema(engine)
    await engine.dispose()
    application = create_app(settings, temporal=object() if temporal is None else temporal)
    async with application.router.lifespan_context(application):
        yield application


@pytest_asyncio.fixture(loop_scope="session")
async def client(app):
    """An HTTP client of the test module's ``app``."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL) as http:
        yield http
