"""SQLite through aiosqlite with one trip to its thread a statement (the embedded default's driver).

aiosqlite runs every call on a thread of its own and hands each result back through the event loop.
SQLAlchemy's aiosqlite adapter makes four such trips for a query (open a cursor, execute, fetch,
close) and three for a write, and each waits for the loop to come round: behind a workflow task, an
activity's Python or a request in ``crisis dev``, where the API and the worker share one loop. A
page's send is eight statements in one transaction, so its 25 or so trips were most of declare →
first page's last step (bench/findings.md). This adapter runs the whole statement, from opening the
cursor to fetching its rows and closing it, in one function on aiosqlite's thread: one trip. What
SQLAlchemy reads of the cursor (its rows, description, rowcount and last row id) is taken there.

``store.db.create_engine`` uses it for every ``sqlite+aiosqlite`` URL; the configured URL does not
change. Streamed results (server-side cursors) keep SQLAlchemy's own cursor. The adapter uses two
names aiosqlite does not document, ``Connection._execute`` and ``Connection._conn`` (aiosqlite
0.22); every SQLite test goes through it.
"""

import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)

DRIVER = "aiosqlite_one_hop"


def _statement(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> tuple:
    """On aiosqlite's thread: the whole statement, and what SQLAlchemy reads of its cursor."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        rows = cursor.fetchall() if cursor.description else ()
        return cursor.description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """SQLAlchemy's cursor over aiosqlite, without a cursor of aiosqlite's: each statement is one trip."""

    __slots__ = ("_description", "_rowcount", "_lastrowid")

    def __init__(self, adapt_connection: "OneHopConnection"):
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None
        self._soft_closed_memoized = {}
        self._rows = collections.deque()
        self._description = None
        self._rowcount = -1
        self._lastrowid = None

    @property
    def description(self):
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self):
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return 1  # sqlite3's default: fetchmany() without a size takes one row

    async def _async_soft_close(self) -> None:
        """Nothing to close: the statement's cursor was closed on aiosqlite's thread."""

    def close(self) -> None:
        self._rows.clear()

    async def _run(self, operation: str, parameters: Any, many: bool) -> None:
        async with self._adapt_connection._execute_mutex:
            description, rows, rowcount, lastrowid = await self._connection._execute(
                _statement, self._connection._conn, operation, parameters, many
            )
        self._description, self._rowcount, self._lastrowid = description, rowcount, lastrowid
        self._rows = collections.deque(rows)

    async def _execute_async(self, operation: str, parameters: Any) -> None:
        await self._run(operation, parameters, False)

    async def _executemany_async(self, operation: str, seq_of_parameters: Any) -> None:
        await self._run(operation, seq_of_parameters, True)


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneHopCursor


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        return OneHopConnection(self, super().connect(*arg, **kw)._connection)


class OneHopDialect(SQLiteDialect_aiosqlite):
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> OneHopDBAPI:
        return OneHopDBAPI(aiosqlite, sqlite3)


registry.register(f"sqlite.{DRIVER}", __name__, "OneHopDialect")
