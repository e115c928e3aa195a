"""What every ``crisis`` command shares: the settings, the consoles, the database engine, the API
client, and the checks that refuse to start on a broken playbook folder, database or TLS setting."""

import sys
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncEngine

from api.settings import Settings
from domain.catalog import CatalogError, load_catalog

console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200)
errors = Console(stderr=True, soft_wrap=True)


def load_settings() -> Settings:
    return Settings()


def run_service(main: Coroutine[Any, Any, None]) -> None:
    """Run a long-lived process (the worker, the dev stack) on uvloop, as uvicorn runs ``crisis
    api`` by itself. The worker is bound by one core (the GIL), and every database statement,
    provider call and Temporal poll wakes the event loop from another thread: libuv's loop did a
    200-person fan-out on 1.5 s less worker CPU than asyncio's own (docs/BENCHMARKS.md)."""
    import uvloop

    uvloop.run(main)


def refuse_invalid_catalog(directory: Path) -> None:
    try:
        load_catalog(directory)
    except CatalogError as error:
        for problem in error.problems:
            errors.print(str(problem), markup=False, highlight=False)
        errors.print(f"{len(error.problems)} problem(s) in {directory}; nothing was started.", style="red")
        raise typer.Exit(1) from None


def configure_logging(settings: Settings, access_log: bool = True) -> None:
    from api.logs import configure_logging as configure

    configure(settings, access_log=access_log)


def refuse_database(error: Exception) -> typer.Exit:
    """One clear line for a database that is behind the code or does not answer; no traceback."""
    errors.print(str(error), style="red", markup=False, highlight=False)
    return typer.Exit(1)


def refuse_bad_temporal_settings(settings: Settings) -> None:
    """TLS settings that contradict each other or name unreadable files: one line, nothing started."""
    from api.temporal_connection import tls_config

    try:
        tls_config(settings)
    except ValueError as error:
        errors.print(str(error), style="red", markup=False, highlight=False)
        raise typer.Exit(1) from None


def database_errors() -> tuple[type[Exception], ...]:
    from store.migrate import SchemaError  # DatabaseUnavailable and SchemaBehind among them

    return (SchemaError,)


@asynccontextmanager
async def database(url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on ``url`` for one command, disposed when it is done."""
    from store.db import create_engine

    engine = create_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()


def api_url(url: str | None) -> str:
    return (url or load_settings().public_url).rstrip("/")


def authorization() -> dict[str, str]:
    key = load_settings().api_key
    if key is None:
        errors.print("set CRISIS_API_KEY to an API key (`crisis apikey create`, or the one `crisis dev` printed)", style="red")
        raise typer.Exit(1)
    return {"Authorization": f"Bearer {key.get_secret_value()}"}


def call(method: str, url: str, headers: dict[str, str] | None = None, **kwargs) -> dict | list | None:
    headers = {**(headers or {}), **authorization()}
    try:
        response = httpx.request(method, url, timeout=30, headers=headers, **kwargs)
    except httpx.HTTPError as error:
        errors.print(f"cannot reach the API at {url}: {error}", style="red")
        raise typer.Exit(1) from None
    if response.status_code >= 400:
        errors.print(f"{response.status_code}: {response.text}", style="red", markup=False)
        raise typer.Exit(1)
    return response.json() if response.content else None
