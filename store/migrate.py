"""Schema migrations (Alembic, under ``store/migrations``): upgrade, the version check every
process makes at start, and new revisions. ``crisis db ...`` is the command-line face of this.

- ``crisis dev`` upgrades its database at start (the embedded default needs no step).
- ``crisis api`` and ``crisis worker`` only check: a database behind the code is refused with
  the command to run, so that one migration step (``crisis db upgrade``, a deploy job) moves the
  schema, never a race of replicas.
"""

import logging
import re
import tempfile
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger("crisisflow.migrate")

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSIONS_DIR = MIGRATIONS_DIR / "versions"
BASELINE = "0001"
"""The revision equal to the schema crisisflow created before it had migrations (``create_all``):
such a database is adopted at this revision, then upgraded."""
_PG_LOCK_KEY = 0x63726973  # "cris": one migration at a time on a PostgreSQL database


class SchemaError(Exception):
    pass


class SchemaBehind(SchemaError):
    def __init__(self, current: str | None, head: str, legacy: bool = False):
        self.current, self.head = current, head
        if legacy:
            where = "unversioned (made before migrations)"
        else:
            where = current or "nothing (an empty database)"
        super().__init__(f"database schema is at {where}, the code needs {head}: run `crisis db upgrade`")


class DatabaseUnavailable(SchemaError):
    pass


@asynccontextmanager
async def _open(engine: AsyncEngine, transaction: bool = False):
    """A connection; failing to get one is DatabaseUnavailable, naming the database without its password."""
    opening = engine.begin() if transaction else engine.connect()
    try:
        connection: AsyncConnection = await opening.__aenter__()
    except (OSError, SQLAlchemyError) as error:
        where = engine.url.render_as_string(hide_password=True)
        raise DatabaseUnavailable(f"the database {where} did not answer: {type(error).__name__}: {error}") from None
    try:
        yield connection
    except BaseException as error:
        if not await opening.__aexit__(type(error), error, error.__traceback__):
            raise
    else:
        await opening.__aexit__(None, None, None)


def alembic_config(url: str | None = None) -> Config:
    """Alembic's configuration without an ini file, so it works from the installed package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.set_main_option("truncate_slug_length", "60")
    if url:
        config.attributes["database_url"] = url
    return config


@cache
def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    heads = script_directory().get_heads()
    if not heads:
        raise SchemaError(f"no migrations in {VERSIONS_DIR}")
    if len(heads) > 1:
        raise SchemaError(
            f"the migrations have {len(heads)} heads ({', '.join(sorted(heads))}): two revisions claim the same parent; "
            "renumber the newer one so that its down_revision is the other (see docs/operations.md, Migrations)"
        )
    return heads[0]


def _known(revision: str) -> bool:
    try:
        return script_directory().get_revision(revision) is not None
    except Exception:
        return False


def _state(connection) -> tuple[str | None, bool]:
    """(current revision, whether the tables exist without a version: a pre-migration database)."""
    current = MigrationContext.configure(connection).get_current_revision()
    legacy = current is None and inspect(connection).has_table("incidents")
    return current, legacy


async def current_revision(engine: AsyncEngine) -> str | None:
    async with _open(engine) as connection:
        return (await connection.run_sync(_state))[0]


async def check_schema(engine: AsyncEngine) -> str:
    """Refuse a database that is behind the code (``SchemaBehind``); return its revision.

    A revision this code does not know means a newer release migrated the database (a rollback,
    or old replicas during a rolling deploy): migrations only add, so that is allowed, with a
    warning."""
    head = head_revision()
    async with _open(engine) as connection:
        current, legacy = await connection.run_sync(_state)
    if current == head:
        return current
    if current is not None and not _known(current):
        log.warning(
            "database schema is at %s, which this code does not know (it needs %s): a newer release migrated it", current, head
        )
        return current
    raise SchemaBehind(current, head, legacy)


def _upgrade(connection, revision: str, sql: bool = False) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    current, legacy = _state(connection)
    if legacy:
        # made by create_all: as the first release shipped it (the baseline), or already equal to the models
        adopted = "head" if not schema_differences(connection) else BASELINE
        log.info("adopting a database made before migrations at revision %s", adopted)
        command.stamp(config, adopted)
    command.upgrade(config, revision, sql=sql)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> tuple[str | None, str | None]:
    """Move the schema to ``revision`` (default: the latest); returns (before, after). On
    PostgreSQL an advisory lock makes concurrent upgrades take turns."""
    if script_directory().get_heads():
        head_revision()  # several heads: say so before touching anything
    async with _open(engine, transaction=True) as connection:
        if connection.dialect.name == "postgresql":
            await connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
        before = (await connection.run_sync(_state))[0]
        await connection.run_sync(_upgrade, revision)
        after = (await connection.run_sync(_state))[0]
    return before, after


def upgrade_sql(url: str, revision: str = "head", start: str | None = None) -> None:
    """Print the SQL of an upgrade (Alembic's offline mode) for review; runs nothing."""
    config = alembic_config(url)
    command.upgrade(config, f"{start}:{revision}" if start else revision, sql=True)


def stamp_head(connection) -> None:
    """Mark a schema made by ``create_all`` as at the latest revision (``store.db.create_schema``)."""
    MigrationContext.configure(connection).stamp(script_directory(), "head")


def next_revision_id() -> str:
    numbers = [int(match.group(1)) for path in VERSIONS_DIR.glob("*.py") if (match := re.match(r"(\d{4})_", path.name))]
    return f"{max(numbers, default=0) + 1:04d}"


async def new_revision(message: str, autogenerate: bool = True) -> Path:
    """Write the next numbered revision. With ``autogenerate`` it holds what the models have and
    the migrations lack, found by upgrading a scratch SQLite database to head and comparing (review
    it: autogenerate does not see renames and cannot know about data)."""
    from store.db import create_engine

    rev_id = next_revision_id()
    with tempfile.TemporaryDirectory(prefix="crisis-revision-") as scratch:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(scratch) / 'scratch.db'}")
        try:
            await upgrade(engine)

            def write(connection):
                config = alembic_config()
                config.attributes["connection"] = connection
                return command.revision(config, message=message, autogenerate=autogenerate, rev_id=rev_id)

            async with engine.begin() as connection:
                script = await connection.run_sync(write)
        finally:
            await engine.dispose()
    script_directory.cache_clear()
    return Path(script.path)


def schema_differences(connection) -> list:
    """What the models have that the database lacks, or the other way round (autogenerate's diff)."""
    from alembic.autogenerate import compare_metadata

    from store.models import Base

    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)
