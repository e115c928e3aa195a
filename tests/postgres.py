"""A throwaway PostgreSQL server for the tests, from the machine's own packages (Debian's
``postgresql``; ``make test`` installs it when ``initdb`` is missing).

``initdb`` in a temporary folder, the server on a free loopback port with its socket in that
folder, durability off (it is thrown away), stopped and deleted at the end of the session. Debian's
server refuses to run as root, so as root it runs as the ``postgres`` system user the package
creates. If it cannot start, the tests that need it fail and say why: they never skip.
"""

import glob
import os
import pwd
import re
import shlex
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import asyncpg
import pytest

from tests.ports import free_port

USER = "crisis"


class PostgresUnavailable(RuntimeError):
    pass


def find_bin_dir() -> Path:
    """The folder of ``initdb`` and ``pg_ctl``: on PATH, else Debian's newest /usr/lib/postgresql/N/bin."""
    on_path = shutil.which("initdb")
    candidates = [Path(on_path).resolve().parent] if on_path else []

    def major(path: str) -> int:
        match = re.search(r"/postgresql/(\d+)/", path)
        return int(match.group(1)) if match else 0

    candidates += [Path(path) for path in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=major, reverse=True)]
    for directory in candidates:
        if (directory / "initdb").exists() and (directory / "pg_ctl").exists():
            return directory
    raise PostgresUnavailable(
        "PostgreSQL's initdb/pg_ctl were not found (on PATH or in /usr/lib/postgresql/*/bin): "
        "install them (Debian: apt-get install postgresql; `make test` does it)"
    )


class PostgresServer:
    def __init__(self):
        self.bin_dir = find_bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="crisis-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        self.started = False

    def _command(self, *args: str) -> list[str]:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if not self.as_root:
            return command
        if shutil.which("runuser"):
            return ["runuser", "-u", "postgres", "--", *command]
        return ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(command)]

    def _run(self, *args: str, timeout: float = 60) -> None:
        result = subprocess.run(self._command(*args), capture_output=True, text=True, timeout=timeout, cwd=self.root)
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise PostgresUnavailable(
                f"`{' '.join(args[:2])}` failed ({result.returncode}): {result.stderr.strip() or result.stdout.strip()}\n{log}"
            )

    def start(self) -> None:
        if self.as_root:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable(
                    "running as root, and there is no `postgres` system user to run the server as"
                ) from None
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
            "--no-instructions",
        )
        self._start_server()

    def _start_server(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -F "
            "-c full_page_writes=off -c synchronous_commit=off -c max_connections=200 -c wal_level=minimal -c max_wal_senders=0"
        )
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o", options, timeout=90)
        self.started = True

    def halt(self) -> None:
        """Stop the server (clients are cut off, the data stays) until :meth:`resume`: an outage."""
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w", "-t", "30")
        self.started = False

    def resume(self) -> None:
        """Start a halted server again, on the same port and data."""
        self._start_server()

    def stop(self) -> None:
        try:
            if self.started:
                self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w", "-t", "30")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://{USER}@127.0.0.1:{self.port}/{database}"

    async def create_database(self, prefix: str = "test") -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        connection = await asyncpg.connect(host="127.0.0.1", port=self.port, user=USER, database="postgres")
        try:
            # FILE_COPY (PostgreSQL 15+) copies the template's files: faster than WAL-logging them here
            strategy = " STRATEGY FILE_COPY" if connection.get_server_version().major >= 15 else ""
            await connection.execute(f'CREATE DATABASE "{name}"{strategy}')
        finally:
            await connection.close()
        return self.url(name)


@pytest.fixture(scope="session")
def postgres():
    """The session's PostgreSQL server (started on first use). Fails, never skips, when it cannot start."""
    server = None
    try:
        server = PostgresServer()
        server.start()
    except Exception as error:
        if server is not None:
            server.stop()
        pytest.fail(f"PostgreSQL could not be started for the tests: {error}", pytrace=False)
    yield server
    server.stop()
