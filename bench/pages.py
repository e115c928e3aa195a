"""Where the benchmark sees a message "accepted by the provider".

Today every message goes to the outbox channel (``channels/outbox.py``): accepted means its row
is committed to ``outbox_messages``. We read the SQLite file directly, read-only, at a tight
interval, so the API (and its own latency) stays out of the measurement.

Extension point: when the Twilio and SendGrid channels are wired, replace :class:`OutboxPages`
with a loopback fake of the providers (an HTTP server on 127.0.0.1 that answers 201 at once and
notes when each request arrived) that implements the same :class:`Pages` protocol, and point
the stack's provider base URLs at it. Nothing else in ``bench/`` needs to change.
"""

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Protocol

POLL_S = 0.002


class Pages(Protocol):
    async def wait_first_page(self, incident_id: str, timeout: float = 30) -> float:
        """Wall-clock time (``time.time()``) at which the first page of the incident was accepted."""
        ...

    async def wait_sends(self, incident_id: str, count: int, kind: str = "page", timeout: float = 120) -> float:
        """Wall-clock time at which ``count`` messages of ``kind`` for the incident had been accepted."""
        ...

    def count(self, kind: str = "page") -> int:
        """Messages of ``kind`` accepted so far, all incidents together."""
        ...


class OutboxPages:
    """The outbox table of one ``crisis.db``: a committed row is an accepted message."""

    def __init__(self, database: Path, poll_s: float = POLL_S):
        self._database = Path(database)
        self._poll_s = poll_s
        self._connection: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            self._connection = sqlite3.connect(f"file:{self._database}?mode=ro", uri=True, check_same_thread=False)
        return self._connection

    def _count(self, incident_id: str, kind: str) -> int:
        row = self._db().execute(
            "SELECT count(*) FROM outbox_messages WHERE incident_id = ? AND kind = ?", (incident_id, kind)
        ).fetchone()
        return row[0]

    async def wait_first_page(self, incident_id: str, timeout: float = 30) -> float:
        return await self.wait_sends(incident_id, 1, "page", timeout)

    async def wait_sends(self, incident_id: str, count: int, kind: str = "page", timeout: float = 120, poll_s: float | None = None) -> float:
        deadline = time.monotonic() + timeout
        while True:
            if self._count(incident_id, kind) >= count:
                return time.time()
            if time.monotonic() > deadline:
                seen = self._count(incident_id, kind)
                raise TimeoutError(f"{incident_id}: {seen} of {count} '{kind}' messages after {timeout} s")
            await asyncio.sleep(poll_s or self._poll_s)

    def count(self, kind: str = "page") -> int:
        return self._db().execute("SELECT count(*) FROM outbox_messages WHERE kind = ?", (kind,)).fetchone()[0]

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
