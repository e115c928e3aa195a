"""Engine and sessions. SQLite (the embedded default) gets WAL and a busy timeout so the API can
read while the worker writes.

SQLite takes one writer at a time, and a connection that finds the write lock taken sleeps in
SQLite's busy handler (1, 2, 5, 10 … up to 100 ms a time) rather than waiting in line, so many
connections of one process writing at once mostly sleep. ``single_connection=True`` (the
worker's engine) gives SQLite one connection: the process's sessions then wait for it in order,
in the pool, and the busy handler is left for the other processes (the API). Every code path
using such an engine must hold at most one session at a time.

A ``sqlite+aiosqlite`` URL runs on ``store/sqlite_one_hop.py``: aiosqlite with one trip to its
thread a statement instead of three or four. A database file's WAL checkpoints run in a thread of
their own (``store/wal_checkpoints.py``), not inside whichever commit takes the log past its limit.
"""

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from store import sqlite_one_hop
from store.models import Base
from store.wal_checkpoints import checkpoint_beside


def create_engine(url: str, pool_size: int = 5, max_overflow: int = 10, single_connection: bool = False) -> AsyncEngine:
    """``pool_size`` and ``max_overflow`` are PostgreSQL's; ``single_connection`` is SQLite's (see above)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow)
    on_file = bool(parsed.database) and parsed.database != ":memory:"
    if on_file:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    if parsed.drivername == "sqlite+aiosqlite":
        parsed = parsed.set(drivername=f"sqlite+{sqlite_one_hop.DRIVER}")
    pool = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 60} if single_connection else {}
    engine = create_async_engine(parsed, connect_args={"timeout": 30}, **pool)

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(connection, _record):
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    if on_file:
        checkpoint_beside(engine.sync_engine, parsed.database)
    return engine


async def create_schema(engine: AsyncEngine) -> None:
    """A fresh schema in one step, marked as at the latest migration: for tests and throwaway
    databases. Real databases are created and moved by migrations (``store.migrate.upgrade``)."""
    from store.migrate import stamp_head

    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
        await connection.run_sync(stamp_head)


def session_factory(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.exec_driver_sql("SELECT 1")
