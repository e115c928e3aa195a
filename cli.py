"""The ``crisis`` command."""

import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table

from api.settings import Settings
from domain.catalog import CatalogError, load_catalog
from domain.playbook import Playbook

app = typer.Typer(help="crisisflow: social-media crisis playbooks as durable Temporal workflows.", no_args_is_help=True)
playbooks_app = typer.Typer(help="Check and describe playbooks.", no_args_is_help=True)
app.add_typer(playbooks_app, name="playbooks")
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200)
errors = Console(stderr=True, soft_wrap=True)


def _settings() -> Settings:
    return Settings()


def _refuse_invalid_catalog(directory: Path) -> None:
    try:
        load_catalog(directory)
    except CatalogError as error:
        for problem in error.problems:
            errors.print(str(problem), markup=False, highlight=False)
        errors.print(f"{len(error.problems)} problem(s) in {directory}; nothing was started.", style="red")
        raise typer.Exit(1) from None


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("temporalio").setLevel(logging.WARNING)


@app.command()
def dev() -> None:
    """Run the whole stack: Temporal dev server, worker and API (Ctrl-C stops all three)."""
    import devstack

    settings = _settings()
    _refuse_invalid_catalog(settings.playbooks_dir)
    try:
        devstack.check_ports(settings)
    except devstack.PortTaken as error:
        errors.print(str(error), style="red")
        raise typer.Exit(1) from None
    _logging()

    def announce(ready: Settings) -> None:
        console.print(f"[bold green]crisisflow is running[/] (data in {ready.data_dir.resolve()})")
        console.print(f"  API docs     {ready.public_url}/docs")
        console.print(f"  Dashboard    {ready.public_url}/")
        console.print(f"  Temporal UI  {ready.temporal_ui_url}")
        console.print("Press Ctrl-C to stop.", style="dim")

    try:
        asyncio.run(devstack.run_stack(settings, announce))
    except RuntimeError as error:
        errors.print(str(error), style="red")
        raise typer.Exit(1) from None
    console.print("stopped: API, worker and Temporal dev server")


@app.command()
def worker() -> None:
    """Run a worker against CRISIS_TEMPORAL_ADDRESS."""
    from worker import run_worker

    settings = _settings()
    _refuse_invalid_catalog(settings.playbooks_dir)
    _logging()
    asyncio.run(run_worker(settings))


@app.command()
def api() -> None:
    """Run the HTTP API against CRISIS_TEMPORAL_ADDRESS."""
    import uvicorn

    from api.main import create_app

    settings = _settings()
    _refuse_invalid_catalog(settings.playbooks_dir)
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port)


def _api_url(url: str | None) -> str:
    return (url or _settings().public_url).rstrip("/")


def _call(method: str, url: str, **kwargs) -> dict | list:
    try:
        response = httpx.request(method, url, timeout=30, **kwargs)
    except httpx.HTTPError as error:
        errors.print(f"cannot reach the API at {url}: {error}", style="red")
        raise typer.Exit(1) from None
    if response.status_code >= 400:
        errors.print(f"{response.status_code}: {response.text}", style="red", markup=False)
        raise typer.Exit(1)
    return response.json()


@app.command()
def declare(
    playbook: Annotated[str, typer.Argument(help="Playbook id, for example account_compromise")],
    title: Annotated[str, typer.Option(help="Short public-safe title")],
    summary: Annotated[str, typer.Option(help="What is known so far")],
    severity: Annotated[str | None, typer.Option(help="SEV1..SEV4; defaults to the playbook's")] = None,
    drill: Annotated[bool, typer.Option(help="Run as an exercise")] = False,
    idempotency_key: Annotated[str | None, typer.Option(help="Repeat-safe key")] = None,
    url: Annotated[str | None, typer.Option(help="API base URL")] = None,
) -> None:
    """Declare an incident through the API."""
    body = {"playbook": playbook, "title": title, "summary": summary, "drill": drill}
    if severity:
        body["severity"] = severity
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    incident = _call("POST", f"{_api_url(url)}/incidents", json=body, headers=headers)
    console.print_json(json.dumps(incident))


@app.command("ls")
def list_incidents(
    status: Annotated[str | None, typer.Option(help="open or closed")] = None,
    url: Annotated[str | None, typer.Option(help="API base URL")] = None,
) -> None:
    """List incidents with their phase and what they wait on."""
    params = {"status": status} if status else {}
    incidents = _call("GET", f"{_api_url(url)}/incidents", params=params)
    table = Table("id", "severity", "phase", "title", "waiting on")
    for incident in incidents:
        waiting = "; ".join(item["title"] for item in incident["pending"])
        table.add_row(incident["id"], incident["severity"], incident["phase"], incident["title"], waiting)
    console.print(table)


@playbooks_app.command("check")
def check_playbooks(directory: Annotated[Path | None, typer.Argument(help="Folder; defaults to CRISIS_PLAYBOOKS_DIR")] = None) -> None:
    """Validate a playbooks folder; print every problem as file:path: reason."""
    directory = directory or _settings().playbooks_dir
    _refuse_invalid_catalog(directory)
    catalog = load_catalog(directory)
    console.print(f"{directory}: team of {len(catalog.roster.people)}, {len(catalog.playbooks)} playbooks ({', '.join(sorted(catalog.playbooks))}) — all valid")


@playbooks_app.command("schema")
def playbook_schema() -> None:
    """Print the playbook JSON Schema (for editors)."""
    sys.stdout.write(json.dumps(Playbook.model_json_schema(), indent=2) + "\n")
