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

from domain.catalog import CatalogError, load_catalog
from settings import Settings

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
    from services.temporal_connection import tls_config

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


# Written by `crisis dev` into its data folder (devstack.py), so the API commands run in the same
# folder need no exports.
DEV_URL_FILE = "dev-api-url"
DEV_KEY_FILE = "dev-api-key"


def api_url(url: str | None) -> str:
    """--url, else CRISIS_PUBLIC_URL or CRISIS_API_PORT when set, else the URL the `crisis dev` of this
    folder wrote into its data folder (./var), else the default port."""
    if url:
        return url.rstrip("/")
    settings = load_settings()
    written = settings.data_dir / DEV_URL_FILE
    if not {"public_url_override", "api_port"} & settings.model_fields_set and written.is_file():
        return written.read_text().strip().rstrip("/")
    return settings.public_url


def authorization() -> dict[str, str]:
    """CRISIS_API_KEY, else the admin key the `crisis dev` of this folder keeps in ./var."""
    settings = load_settings()
    if settings.api_key is not None:
        return {"Authorization": f"Bearer {settings.api_key.get_secret_value()}"}
    kept = settings.data_dir / DEV_KEY_FILE
    if kept.is_file() and (key := kept.read_text().strip()):
        return {"Authorization": f"Bearer {key}"}
    errors.print(
        f"no API key: set CRISIS_API_KEY (`crisis apikey create`), or run this in the folder where `crisis dev` runs "
        f"(it keeps its key in {kept})",
        style="red",
        markup=False,
        highlight=False,
    )
    raise typer.Exit(1)


_REFUSALS = {
    400: "the API refused the request",
    401: "the API key was not accepted",
    403: "this API key may not do that",
    404: "not found",
    409: "refused in the incident's current state",
    413: "the request is too large",
    422: "the API refused the input",
    429: "too many requests; wait a moment and try again",
    503: "the service is busy or starting; try again shortly",
}


def refusal(status: int, body: str, options: dict[str, str] | None = None) -> str:
    """An API refusal in words: what kind of refusal, then each problem naming its field (as the
    command's option when ``options`` maps the field to one) — never the raw JSON body."""
    import json

    kind = _REFUSALS.get(status, "the API refused the request" if status < 500 else "the API failed")
    try:
        detail = json.loads(body).get("detail") if body else None
    except (ValueError, AttributeError):
        detail = None
    if detail is None:
        text = " ".join(body.split())[:300]
        return f"{kind} ({status}){': ' + text if text else ''}"
    if isinstance(detail, str):
        return f"{kind} ({status}): {detail}"
    problems = []
    for problem in detail if isinstance(detail, list) else [detail]:
        if not isinstance(problem, dict):
            problems.append(str(problem))
            continue
        location = [str(part) for part in problem.get("loc", ()) if part not in ("body", "query", "path")]
        field = ".".join(location)
        named = (options or {}).get(field, field)
        problems.append(f"{named}: {problem.get('msg', 'not accepted')}" if named else str(problem.get("msg", "not accepted")))
    return f"{kind} ({status}):\n  " + "\n  ".join(problems)


def call(
    method: str, url: str, headers: dict[str, str] | None = None, options: dict[str, str] | None = None, **kwargs
) -> dict | list | None:
    """One API request; a refusal or an unreachable API is a sentence on stderr and exit 1."""
    headers = {**(headers or {}), **authorization()}
    try:
        response = httpx.request(method, url, timeout=30, headers=headers, **kwargs)
    except httpx.HTTPError as error:
        errors.print(
            f"cannot reach the API at {url}: {error or type(error).__name__} (is `crisis dev` running? --url names another API)",
            style="red",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(1) from None
    if response.status_code >= 400:
        errors.print(refusal(response.status_code, response.text, options), style="red", markup=False, highlight=False)
        raise typer.Exit(1)
    return response.json() if response.content else None
