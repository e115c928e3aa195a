"""The ``crisis`` command."""

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from api.settings import Settings
from domain.catalog import CatalogError, load_catalog
from domain.playbook import Playbook

app = typer.Typer(help="crisisflow: social-media crisis playbooks as durable Temporal workflows.", no_args_is_help=True)
playbooks_app = typer.Typer(help="Check and describe playbooks.", no_args_is_help=True)
app.add_typer(playbooks_app, name="playbooks")
db_app = typer.Typer(help="The read model's database schema (Alembic migrations).", no_args_is_help=True)
app.add_typer(db_app, name="db")
mentions_app = typer.Typer(help="Social-media mentions for listening.", no_args_is_help=True)
app.add_typer(mentions_app, name="mentions")
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


def _logging(settings: Settings, access_log: bool = True) -> None:
    from api.logs import configure_logging

    configure_logging(settings, access_log=access_log)


def _refuse_database(error: Exception) -> typer.Exit:
    """One clear line for a database that is behind the code or does not answer; no traceback."""
    errors.print(str(error), style="red", markup=False, highlight=False)
    return typer.Exit(1)


def _refuse_bad_temporal_settings(settings: Settings) -> None:
    """TLS settings that contradict each other or name unreadable files: one line, nothing started."""
    from api.temporal_connection import tls_config

    try:
        tls_config(settings)
    except ValueError as error:
        errors.print(str(error), style="red", markup=False, highlight=False)
        raise typer.Exit(1) from None


def _database_errors() -> tuple[type[Exception], ...]:
    from store.migrate import SchemaError  # DatabaseUnavailable and SchemaBehind among them

    return (SchemaError,)


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
    _logging(settings, access_log=settings.log_format == "json")

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
    except _database_errors() as error:
        raise _refuse_database(error) from None
    console.print("stopped: API, worker and Temporal dev server")


@app.command()
def worker() -> None:
    """Run a worker against CRISIS_TEMPORAL_ADDRESS."""
    from worker import run_worker

    settings = _settings()
    _refuse_invalid_catalog(settings.playbooks_dir)
    _refuse_bad_temporal_settings(settings)
    _logging(settings)
    try:
        asyncio.run(run_worker(settings))
    except _database_errors() as error:
        raise _refuse_database(error) from None


@app.command()
def api() -> None:
    """Run the HTTP API against CRISIS_TEMPORAL_ADDRESS."""
    import uvicorn

    from api.main import create_app

    settings = _settings()
    _refuse_invalid_catalog(settings.playbooks_dir)
    _refuse_bad_temporal_settings(settings)
    _logging(settings)
    try:
        asyncio.run(_check_schema(settings))
    except _database_errors() as error:
        raise _refuse_database(error) from None
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port, log_config=None, access_log=False)


async def _check_schema(settings: Settings) -> None:
    from store.db import create_engine
    from store.migrate import check_schema

    engine = create_engine(settings.database_url)
    try:
        await check_schema(engine)
    finally:
        await engine.dispose()


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


@mentions_app.command("import")
def import_mentions(
    file: Annotated[Path, typer.Argument(help="A listening tool's export: JSON Lines (one mention a line) or .csv with a header")],
    batch: Annotated[int, typer.Option(help="Mentions per request (at most 5000)")] = 1000,
    url: Annotated[str | None, typer.Option(help="API base URL")] = None,
) -> None:
    """Post a file of mentions to POST /mentions; posts already stored are skipped, so re-running is safe."""
    from api.mention_import import ImportProblem, post_all, read_file

    try:
        result = post_all(_api_url(url), file, read_file(file), batch)
    except ImportProblem as problem:
        errors.print(str(problem), style="red", markup=False, highlight=False)
        raise typer.Exit(1) from None
    topics = ", ".join(f"{topic} {count:,}" for topic, count in sorted(result.topics.items())) or "none"
    console.print(f"{file}: {result.read:,} read, {result.stored:,} stored, {result.duplicates:,} duplicates skipped; "
                  f"stored by topic: {topics}", markup=False, highlight=False)


@app.command()
def doctor() -> None:
    """Say which channel each kind of message uses and check the provider settings' form (sends nothing)."""
    from pydantic import ValidationError

    from channels.doctor import diagnose

    try:
        settings = _settings()
    except ValidationError as error:
        for problem in error.errors():
            errors.print(f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}", markup=False, highlight=False)
        raise typer.Exit(1) from None
    diagnosis = diagnose(settings)
    table = Table("kind", "channel", "details")
    for choice in diagnosis.channels:
        table.add_row(choice.kind.value, choice.provider, choice.detail)
    console.print(table)
    targets = Table("publishing target", "channel", "details")
    for target in diagnosis.publishing:
        targets.add_row(target.target, target.provider, target.detail + (f" — LEFT OUT: {target.problem}" if target.problem else ""))
    console.print(targets)
    for warning in diagnosis.warnings:
        console.print(f"warning: {warning}", style="yellow", markup=False, highlight=False)
    for problem in diagnosis.errors:
        errors.print(f"error: {problem}", style="red", markup=False, highlight=False)
    if not diagnosis.ok:
        errors.print(f"{len(diagnosis.errors)} problem(s) in the channel settings", style="red")
        raise typer.Exit(1)
    console.print("channel settings look right (nothing was sent)", style="green")


@playbooks_app.command("check")
def check_playbooks(directory: Annotated[Path | None, typer.Argument(help="Folder; defaults to CRISIS_PLAYBOOKS_DIR")] = None) -> None:
    """Validate a playbooks folder; print every problem as file:path: reason."""
    directory = directory or _settings().playbooks_dir
    _refuse_invalid_catalog(directory)
    catalog = load_catalog(directory)
    console.print(
        f"{directory}: team of {len(catalog.roster.people)}, {len(catalog.playbooks)} playbooks ({', '.join(sorted(catalog.playbooks))}), "
        f"{len(catalog.risks)} risks, {len(catalog.answers)} answers kits, {len(catalog.topics)} monitored topics — all valid"
    )


@app.command()
def readiness(
    directory: Annotated[Path | None, typer.Argument(help="Folder; defaults to CRISIS_PLAYBOOKS_DIR")] = None,
    require_drills: Annotated[bool, typer.Option(help="Count 'never drilled' as a failure, not a warning")] = False,
) -> None:
    """Readiness of every risk in risks.yaml; exits 1 when a critical risk is not ready (a CI gate)."""
    from datetime import datetime, timezone

    from domain.readiness import Status, assess

    directory = directory or _settings().playbooks_dir
    _refuse_invalid_catalog(directory)
    catalog = load_catalog(directory)
    if not catalog.risks:
        console.print(f"{directory}: no risks.yaml, so no risk register to assess (see docs/preparedness.md)", markup=False)
        return
    # Drill records do not exist yet: every risk is "never drilled" (a warning unless --require-drills).
    result = assess(catalog, datetime.now(timezone.utc).date(), last_drills={}, never_drilled_fails=require_drills)
    marks = {Status.PASS: "[green]✓[/]", Status.FAIL: "[red]✗[/]", Status.WARN: "[yellow]![/]"}
    table = Table("risk", "priority", "owner", "playbook", "ready", "checks", title=f"Readiness of {catalog.roster.organization.name}")
    for item in result.risks:
        risk = item.risk
        passed = [check.name for check in item.checks if check.status is Status.PASS]
        lines = [f"{marks[Status.PASS]} {' '.join(passed)}"] if passed else []
        for check in item.checks:
            if check.status is not Status.PASS:
                lines.append(f"{marks[check.status]} {check.name}: {escape(check.detail)}")
                if check.fix:
                    lines.append(f"    fix: {escape(check.fix)}")
        table.add_row(
            f"{escape(risk.title)}\n[dim]{risk.id}[/]",
            f"{risk.band.value} {risk.likelihood}×{risk.impact}={risk.priority}",
            risk.owner,
            risk.playbook,
            "[green]ready[/]" if item.ready else "[red]NOT READY[/]",
            "\n".join(lines),
        )
    console.print(table)
    console.print(f"{result.ready} of {len(result.risks)} risks ready; readiness {result.score:.0%}")
    if result.blocking:
        ids = ", ".join(item.risk.id for item in result.blocking)
        errors.print(f"critical risk(s) not ready: {ids}", style="red", markup=False, highlight=False)
        raise typer.Exit(1)


@playbooks_app.command("schema")
def playbook_schema() -> None:
    """Print the playbook JSON Schema (for editors)."""
    sys.stdout.write(json.dumps(Playbook.model_json_schema(), indent=2) + "\n")


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision")] = "head",
    sql: Annotated[bool, typer.Option("--sql", help="Print the SQL for review instead of running it")] = False,
) -> None:
    """Migrate DATABASE_URL to the latest schema (or REVISION). Safe to repeat; on PostgreSQL concurrent runs take turns."""
    from store import migrate
    from store.db import create_engine

    settings = _settings()
    if sql:
        migrate.upgrade_sql(settings.database_url, revision)
        return
    _logging(settings)

    async def run():
        engine = create_engine(settings.database_url)
        try:
            return await migrate.upgrade(engine, revision)
        finally:
            await engine.dispose()

    try:
        before, after = asyncio.run(run())
    except _database_errors() as error:
        raise _refuse_database(error) from None
    if before == after:
        console.print(f"{settings.database_url_safe}: schema already at {after}", markup=False, highlight=False)
    else:
        console.print(f"{settings.database_url_safe}: schema upgraded from {before or 'nothing'} to {after}", markup=False, highlight=False)


@db_app.command("current")
def db_current() -> None:
    """Print the database's schema revision and the one the code needs; exit 1 when behind."""
    from store import migrate
    from store.db import create_engine

    settings = _settings()

    async def run():
        engine = create_engine(settings.database_url)
        try:
            current = await migrate.current_revision(engine)
            try:
                await migrate.check_schema(engine)
                return current, None
            except migrate.SchemaBehind as behind:
                return current, behind
        finally:
            await engine.dispose()

    try:
        current, behind = asyncio.run(run())
    except _database_errors() as error:
        raise _refuse_database(error) from None
    console.print(f"database {current or 'empty'}, code {migrate.head_revision()}", markup=False, highlight=False)
    if behind is not None:
        errors.print(str(behind), style="red", markup=False, highlight=False)
        raise typer.Exit(1)


@db_app.command("revision")
def db_revision(
    message: Annotated[str, typer.Option("-m", "--message", help="What the revision does, e.g. 'notification ledger'")],
    empty: Annotated[bool, typer.Option("--empty", help="An empty revision to fill in (data migrations)")] = False,
) -> None:
    """Write the next numbered migration from what store/models.py has and the migrations lack."""
    from store import migrate

    path = asyncio.run(migrate.new_revision(message, autogenerate=not empty))
    console.print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}: review it, then run the tests",
                  markup=False, highlight=False)


@db_app.command("check")
def db_check() -> None:
    """Compare the models with the migrations (a scratch SQLite database at head); exit 1 on any difference."""
    import tempfile

    from store import migrate
    from store.db import create_engine

    async def run():
        with tempfile.TemporaryDirectory(prefix="crisis-check-") as scratch:
            engine = create_engine(f"sqlite+aiosqlite:///{Path(scratch) / 'check.db'}")
            try:
                await migrate.upgrade(engine)
                async with engine.connect() as connection:
                    return await connection.run_sync(migrate.schema_differences)
            finally:
                await engine.dispose()

    differences = asyncio.run(run())
    if differences:
        for difference in differences:
            errors.print(str(difference), markup=False, highlight=False)
        errors.print("the models and the migrations differ: `crisis db revision -m \"...\"` writes the missing revision", style="red")
        raise typer.Exit(1)
    console.print(f"models and migrations agree (head {migrate.head_revision()})")

