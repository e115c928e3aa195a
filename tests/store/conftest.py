"""The read model on both databases crisisflow supports: SQLite (the embedded default) and
PostgreSQL (production). Every test here that takes ``engine`` or ``empty_url`` runs on both;
the PostgreSQL server starts only when a PostgreSQL variant runs."""

import pytest
import pytest_asyncio
from sqlalchemy import text

from store.db import create_engine, create_schema, session_factory
from store.models import Base

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def empty_url(backend, request) -> str:
    """The URL of a new, empty database."""
    return request.getfixturevalue(f"{backend}_empty_url")


@pytest.fixture
def engine(backend, request):
    """An engine on a database with the current schema and no rows."""
    return request.getfixturevalue(f"{backend}_engine")


@pytest.fixture
def sessions(engine):
    return session_factory(engine)


@pytest.fixture
def sqlite_empty_url(tmp_path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'crisis.db'}"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def postgresql_scratch_url(postgres) -> str:
    return await postgres.create_database("scratch")


@pytest_asyncio.fixture(loop_scope="session")
async def postgresql_empty_url(postgresql_scratch_url) -> str:
    """A PostgreSQL database emptied of everything (a new database costs half a second; this, a few ms)."""
    engine = create_engine(postgresql_scratch_url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    return postgresql_scratch_url


@pytest_asyncio.fixture(loop_scope="session")
async def sqlite_engine(sqlite_empty_url):
    engine = create_engine(sqlite_empty_url)
    await create_schema(engine)
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def postgresql_schema_url(postgres) -> str:
    """One PostgreSQL database with the current schema, shared by the tests and emptied before each."""
    url = await postgres.create_database("store")
    engine = create_engine(url)
    await create_schema(engine)
    await engine.dispose()
    return url


@pytest_asyncio.fixture(loop_scope="session")
async def postgresql_engine(postgresql_schema_url):
    engine = create_engine(postgresql_schema_url)
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY"))
    yield engine
    await engine.dispose()
