"""SQLite's WAL checkpoints in a thread of their own, not inside a commit.

In WAL mode SQLite appends each transaction's pages to the ``-wal`` file and copies them back into
the database file in a checkpoint. By default the connection whose commit takes the log past 1,000
pages runs that checkpoint before its commit returns, fsyncs included: 5 to 12 ms on this
project's development machine, in the middle of whatever that connection was doing. A declaration
on ``crisis dev`` writes about 125 pages (its pages' links and ledger rows, the outbox, the read
model), so every eighth or so had a commit that paid for everyone's checkpoint; with the worker's
single connection (store/db.py) every send behind that commit waited as well.

Here a daemon thread with its own connection runs a PASSIVE checkpoint every
``CHECKPOINT_EVERY_S``: it copies what no reader still needs and never waits for readers or
writers, and the sqlite3 module releases the GIL while it runs. The engine's connections keep an
automatic checkpoint only as a safety net, at ``SAFETY_NET_PAGES``, should the thread fall behind.
"""

import logging
import sqlite3
import threading
import weakref
from pathlib import Path

from sqlalchemy import event

log = logging.getLogger(__name__)

CHECKPOINT_EVERY_S = 0.5
SAFETY_NET_PAGES = 10_000  # about 40 MB of log at SQLite's default 4 KiB pages
THREAD_NAME = "sqlite-wal-checkpoints"


class WalCheckpoints:
    """The checkpoint thread of one engine's database file: started with the engine's first
    connection, stopped when the engine is disposed or collected, and started again if a disposed
    engine connects once more."""

    def __init__(self, database: str, every_s: float = CHECKPOINT_EVERY_S):
        # mode=rw: a database deleted meanwhile is not created again, empty.
        self._uri = Path(database).resolve().as_uri() + "?mode=rw"
        self._database = database
        self._every_s = every_s
        self._guard = threading.Lock()
        self._stop: threading.Event | None = None

    def start(self) -> None:
        with self._guard:
            if self._stop is not None:
                return
            self._stop = stop = threading.Event()
        threading.Thread(target=self._run, args=(stop,), name=THREAD_NAME, daemon=True).start()

    def stop(self) -> None:
        """Ends the thread after its checkpoint in progress, if any; does not wait for it (the
        caller may be an event loop)."""
        with self._guard:
            stop, self._stop = self._stop, None
        if stop is not None:
            stop.set()

    def _run(self, stop: threading.Event) -> None:
        connection: sqlite3.Connection | None = None
        try:
            while not stop.wait(self._every_s):
                try:
                    if connection is None:
                        connection = sqlite3.connect(self._uri, uri=True)
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as error:
                    log.debug("WAL checkpoint of %s not run: %s", self._database, error)
        finally:
            if connection is not None:
                connection.close()


def checkpoint_beside(sync_engine, database: str) -> WalCheckpoints:
    """Give ``sync_engine`` (SQLite, a file) a checkpoint thread; see the module's docstring."""
    checkpoints = WalCheckpoints(database)

    @event.listens_for(sync_engine, "connect")
    def _start(connection, _record):
        cursor = connection.cursor()
        cursor.execute(f"PRAGMA wal_autocheckpoint={SAFETY_NET_PAGES}")
        cursor.close()
        checkpoints.start()

    @event.listens_for(sync_engine, "engine_disposed")
    def _stop(_engine):
        checkpoints.stop()

    weakref.finalize(sync_engine, checkpoints.stop)
    return checkpoints
