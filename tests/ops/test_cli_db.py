"""`crisis db ...`, and `crisis api` / `crisis worker` refusing a database behind the code, as an
operator runs them."""

import os
import subprocess

import pytest

from settings import Settings
from store import migrate
from tests.e2e.stack import BIN, free_port


def crisis(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "CRISIS_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}", **env}
    return subprocess.run([str(BIN / "crisis"), *args], env=environment, capture_output=True, text=True, timeout=120)


async def test_db_upgrade_and_current_on_postgresql(postgres):
    url = await postgres.create_database("cli")
    upgraded = crisis("db", "upgrade", DATABASE_URL=url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"schema upgraded from nothing to {migrate.head_revision()}" in upgraded.stdout
    assert "Running upgrade  -> 0001" in upgraded.stderr
    current = crisis("db", "current", DATABASE_URL=url)
    assert current.returncode == 0 and f"database {migrate.head_revision()}, code {migrate.head_revision()}" in current.stdout


EXPECTED = f"database schema is at nothing (an empty database), the code needs {migrate.head_revision()}: run `crisis db upgrade`"


def test_the_api_refuses_a_database_behind_the_code(tmp_path):
    result = crisis("api", DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    assert result.returncode == 1
    assert EXPECTED in " ".join(result.stderr.split()), result.stderr
    assert "Traceback" not in result.stderr


async def test_the_worker_refuses_a_database_behind_the_code_before_it_connects(tmp_path):
    """In process (the command prints the same line as the API's: see above)."""
    from worker import run_worker

    settings = Settings(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}", CRISIS_TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}"
    )
    with pytest.raises(migrate.SchemaBehind) as refused:
        await run_worker(settings)
    assert str(refused.value) == EXPECTED


def test_an_unreachable_database_is_named_without_its_password():
    port = free_port()
    result = crisis("db", "upgrade", DATABASE_URL=f"postgresql+asyncpg://crisis:s3cret-pw@127.0.0.1:{port}/crisisflow")
    assert result.returncode == 1
    output = " ".join((result.stdout + result.stderr).split())
    assert f"the database postgresql+asyncpg://crisis:***@127.0.0.1:{port}/crisisflow did not answer" in output
    assert "s3cret-pw" not in result.stdout + result.stderr
