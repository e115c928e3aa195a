"""The ``crisis`` command."""

import asyncio
import json
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from api.settings import Settings
from domain.catalog import CatalogError, load_catalog
from domain.playbook import Playbook

app = typer.Typer(help="crisisflow: social-media crisis playbooks as durable Temporal workflows.", no_args_is_help=True)
playbooks_app = typer.Typer(help="Check and describe playbooks.", no_args_is_help=True)
app.add_typer(playbooks_app, name="playbooks")
db_app = typer.Typer(help="The read model's database schema (Alembic migrations).", no_args_is_help=True)
app.add_typer(db_app, name="db")
apikey_app = typer.Typer(help="API keys (on DATABASE_URL): create, list, revoke. See docs/security.md.", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")
mentions_app = typer.Typer(help="Social-media mentions for listening.", no_args_is_help=True)
app.add_typer(mentions_app, name="mentions")
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200)
errors = Console(stderr=True, soft_wrap=True)


def _settings() -> Settings:
    return Settings()


def _run_service(main: Coroutine[Any, Any, None]) -> None:
    """Run a long-lived process (the worker, the dev stack) on uvloop, as uvicorn runs ``crisis
    api`` by itself. The worker is bound by one core (the GIL), and every database statement,
    provider call and Temporal poll wakes the event loop from another thread: libuv's loop did a
    200-person fan-out on 1.5 s less worker CPU than asyncio's own (docs/BENCHMARKS.md)."""
    import uvloop

    uvloop.run(main)


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
        devstack.check_data_dir(settings)
    except devstack.InUse as error:
        errors.print(str(error), style="red", markup=False, highlight=False)
        raise typer.Exit(1) from None
    _logging(settings, access_log=settings.log_format == "json")

    def announce(ready: Settings, key_file: Path | None) -> None:
        console.print(f"[bold green]crisisflow is running[/] (data in {ready.data_dir.resolve()})")
        console.print(f"  API docs     {ready.public_url}/docs")
        console.print(f"  Dashboard    {ready.public_url}/")
        console.print(f"  Temporal UI  {ready.temporal_ui_url} (read-only)")
        if key_file is None:
            console.print("  API key      CRISIS_API_KEY (admin)")
        else:
            console.print(f"  API key      {ready.api_key.get_secret_value()} (admin; kept in {key_file.resolve()})", markup=False, highlight=False)
        console.print("Press Ctrl-C to stop.", style="dim")

    try:
        _run_service(devstack.run_stack(settings, announce))
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
        _run_service(run_worker(settings))
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


def _authorization() -> dict[str, str]:
    key = _settings().api_key
    if key is None:
        errors.print("set CRISIS_API_KEY to an API key (`crisis apikey create`, or the one `crisis dev` printed)", style="red")
        raise typer.Exit(1)
    return {"Authorization": f"Bearer {key.get_secret_value()}"}


def _call(method: str, url: str, headers: dict[str, str] | None = None, **kwargs) -> dict | list | None:
    headers = {**(headers or {}), **_authorization()}
    try:
        response = httpx.request(method, url, timeout=30, headers=headers, **kwargs)
    except httpx.HTTPError as error:
        errors.print(f"cannot reach the API at {url}: {error}", style="red")
        raise typer.Exit(1) from None
    if response.status_code >= 400:
        errors.print(f"{response.status_code}: {response.text}", style="red", markup=False)
        raise typer.Exit(1)
    return response.json() if response.content else None


@app.command()
def declare(
    playbook: Annotated[str, typer.Argument(help="Playbook id, for example account_compromise")],
    title: Annotated[str, typer.Option(help="Internal title (never published)")],
    summary: Annotated[str, typer.Option(help="Internal: what is known so far (never published)")],
    headline: Annotated[str | None, typer.Option(help="Public headline: the first line of the public fact sheet")] = None,
    severity: Annotated[str | None, typer.Option(help="SEV1..SEV4; defaults to the playbook's")] = None,
    drill: Annotated[bool, typer.Option(help="Run as an exercise")] = False,
    idempotency_key: Annotated[str | None, typer.Option(help="Repeat-safe key")] = None,
    url: Annotated[str | None, typer.Option(help="API base URL")] = None,
) -> None:
    """Declare an incident through the API."""
    body = {"playbook": playbook, "title": title, "summary": summary, "drill": drill}
    if severity:
        body["severity"] = severity
    if headline:
        body["fact_sheet"] = {"headline": headline}
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
        result = post_all(_api_url(url), file, read_file(file), batch, headers=_authorization())
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
    from channels.registry import chat_choices

    chats = Table("chat", "details")
    for name, detail in chat_choices(settings):
        chats.add_row(name, detail)
    console.print(chats)
    for warning in diagnosis.warnings:
        console.print(f"warning: {warning}", style="yellow", markup=False, highlight=False)
    for problem in diagnosis.errors:
        errors.print(f"error: {problem}", style="red", markup=False, highlight=False)
    if not diagnosis.ok:
        errors.print(f"{len(diagnosis.errors)} problem(s) in the channel settings", style="red")
        raise typer.Exit(1)
    console.print("channel settings look right (nothing was sent)", style="green")


def _reachability(settings: Settings, roster) -> None:
    """Who cannot be reached on each channel a provider is configured for; and calling levels
    while calls are not configured (their pages land in the outbox)."""
    from channels.registry import sendgrid_configured, slack_configured, twilio_calls_configured, twilio_configured
    from domain.readiness import calling_roles, unreachable

    configured = [name for name, on in (("sms", twilio_configured(settings)), ("call", twilio_calls_configured(settings)),
                                        ("email", sendgrid_configured(settings)), ("slack", slack_configured(settings))) if on]
    if roles := calling_roles(roster):
        if "call" not in configured:
            console.print(f"! {', '.join(roles)} call people, but Twilio calls are not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, "
                          "TWILIO_FROM_NUMBER): those calls go to the outbox", style="yellow", markup=False, highlight=False)
    if not configured:
        console.print("reachability: no provider is configured, every message goes to the outbox", markup=False, highlight=False)
        return
    missing = unreachable(roster, configured)
    for channel in configured:
        people = [item for item in missing if item.channel == channel]
        if not people:
            console.print(f"reachability {channel}: all {len(roster.people)} people can be reached", markup=False, highlight=False)
        for item in people:
            console.print(f"! {channel}: {item.person} cannot be reached: {item.reason} (fix: {item.fix})", style="yellow",
                          markup=False, highlight=False)


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
    _reachability(_settings(), catalog.roster)


def _last_drills(settings: Settings) -> tuple[dict, str | None]:
    """Each playbook's last drill date from the read model, or why it could not be read. A missing
    SQLite file is not created: readiness stays a read-only check."""
    from sqlalchemy.engine import make_url

    from store import service
    from store.db import create_engine, session_factory

    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        return {}, f"no database at {url.database}"

    async def read():
        engine = create_engine(settings.database_url)
        try:
            async with session_factory(engine)() as session:
                return {playbook: at.date() for playbook, at in (await service.last_drills(session)).items()}
        finally:
            await engine.dispose()

    try:
        return asyncio.run(read()), None
    except Exception as error:  # an unreachable or unmigrated database must not hide the readiness table
        return {}, f"{settings.database_url_safe}: {type(error).__name__}"


@app.command()
def readiness(
    directory: Annotated[Path | None, typer.Argument(help="Folder; defaults to CRISIS_PLAYBOOKS_DIR")] = None,
    require_drills: Annotated[
        bool,
        typer.Option(
            "--require-drills/--allow-undrilled",
            help="--allow-undrilled: a critical risk whose only failure is 'never drilled' does not fail the command (it is still not ready)",
        ),
    ] = True,
) -> None:
    """Readiness of every risk in risks.yaml; exits 1 when a critical risk is not ready (a CI gate)."""
    from datetime import datetime, timezone

    from channels.doctor import webhook_warnings
    from domain.readiness import Status, assess

    settings = _settings()
    directory = directory or settings.playbooks_dir
    _refuse_invalid_catalog(directory)
    catalog = load_catalog(directory)
    for warning in webhook_warnings(settings):
        console.print(f"! {warning}", style="yellow", markup=False, highlight=False)
    _reachability(settings, catalog.roster)
    if not catalog.risks:
        console.print(f"{directory}: no risks.yaml, so no risk register to assess (see docs/preparedness.md)", markup=False)
        return
    drilled, unread = _last_drills(settings)
    if unread:
        console.print(f"no drill records read ({unread}): every risk counts as never drilled", style="yellow", markup=False, highlight=False)
    result = assess(catalog, datetime.now(timezone.utc).date(), last_drills=drilled)
    marks = {Status.PASS: "[green]✓[/]", Status.FAIL: "[red]✗[/]"}
    table = Table("risk", "priority", "owner", "playbook", "last drill", "ready", "checks", title=f"Readiness of {catalog.roster.organization.name}")
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
            item.last_drill.isoformat() if item.last_drill else "never",
            "[green]ready[/]" if item.ready else "[red]NOT READY[/]",
            "\n".join(lines),
        )
    console.print(table)
    console.print(f"{result.ready} of {len(result.risks)} risks ready; readiness {result.score:.0%}")
    gate = result.gate(allow_undrilled=not require_drills)
    if undrilled := [item.risk.id for item in result.blocking if item not in gate]:
        console.print(f"critical risk(s) never drilled, let through by --allow-undrilled: {', '.join(undrilled)}",
                      style="yellow", markup=False, highlight=False)
    if gate:
        ids = ", ".join(item.risk.id for item in gate)
        errors.print(f"critical risk(s) not ready: {ids}", style="red", markup=False, highlight=False)
        raise typer.Exit(1)


@playbooks_app.command("schema")
def playbook_schema() -> None:
    """Print the playbook JSON Schema (for editors)."""
    sys.stdout.write(json.dumps(Playbook.model_json_schema(), indent=2) + "\n")


async def _with_keys(operation):
    """Run ``operation(session)`` on DATABASE_URL, once its schema is known to be current."""
    from store.db import create_engine, session_factory
    from store.migrate import check_schema

    engine = create_engine(_settings().database_url)
    try:
        await check_schema(engine)
        async with session_factory(engine)() as session:
            return await operation(session)
    finally:
        await engine.dispose()


def _keys(operation):
    from store.apikeys import KeyProblem

    try:
        return asyncio.run(_with_keys(operation))
    except KeyProblem as problem:
        errors.print(str(problem), style="red", markup=False, highlight=False)
        raise typer.Exit(1) from None
    except _database_errors() as error:
        raise _refuse_database(error) from None


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Option(help="Who or what uses it; the timeline shows it beside each action")],
    scopes: Annotated[str, typer.Option(help="Comma-separated: declare, respond, admin (admin includes the others)")],
) -> None:
    """Make an API key and print it, once: only its hash is kept."""
    from store import apikeys

    wanted = [scope.strip() for scope in scopes.split(",") if scope.strip()]
    issued = _keys(lambda session: apikeys.create(session, name, wanted))
    console.print(f"API key '{issued.row.name}' (id {issued.row.id}, scopes {','.join(issued.row.scopes)}) — shown this once:",
                  markup=False, highlight=False)
    sys.stdout.write(issued.key + "\n")


@apikey_app.command("list")
def apikey_list() -> None:
    """Every API key with its scopes and state (never the key itself)."""
    from store import apikeys

    rows = _keys(apikeys.list_keys)
    table = Table("id", "name", "scopes", "starts with", "created", "state")
    for row in rows:
        state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M} UTC" if row.revoked_at else "active"
        table.add_row(str(row.id), row.name, ",".join(row.scopes), row.prefix + "…", f"{row.created_at:%Y-%m-%d %H:%M} UTC", state)
    console.print(table)


@apikey_app.command("revoke")
def apikey_revoke(key: Annotated[str, typer.Argument(help="The key's id or name")]) -> None:
    """Revoke a key: it stops working at its next request."""
    from store import apikeys

    row = _keys(lambda session: apikeys.revoke(session, key))
    console.print(f"API key '{row.name}' (id {row.id}) is revoked", markup=False, highlight=False)


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



# ---- drills ---------------------------------------------------------------------------------


class _DrillGroup(TyperGroup):
    """``crisis drill PLAYBOOK`` runs a drill now; ``schedule``, ``schedules`` and ``unschedule``
    manage recurring ones."""

    def resolve_command(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["run", *args]
        return super().resolve_command(ctx, args)


drill_app = typer.Typer(
    cls=_DrillGroup,
    no_args_is_help=True,
    help="Run a playbook as an exercise ([DRILL] everywhere, nothing published outside): crisis drill PLAYBOOK [--participants a,b].",
)
app.add_typer(drill_app, name="drill")


def _participants(value: str | None) -> list[str]:
    return [person.strip() for person in (value or "").split(",") if person.strip()]


@drill_app.command("run")
def drill_run(
    playbook: Annotated[str, typer.Argument(help="Playbook id, for example account_compromise")],
    participants: Annotated[str | None, typer.Option(help="Person ids taking part, comma-separated; only they are paged (default: the whole team)")] = None,
    severity: Annotated[str | None, typer.Option(help="SEV1..SEV4; defaults to the playbook's")] = None,
    title: Annotated[str | None, typer.Option(help="Defaults to 'Drill: <playbook name>'")] = None,
    url: Annotated[str | None, typer.Option(help="API base URL")] = None,
) -> None:
    """Run a drill now (the same as `crisis drill PLAYBOOK`); prints the drill and its report link."""
    body: dict = {"playbook": playbook, "participants": _participants(participants)}
    if severity:
        body["severity"] = severity
    if title:
        body["title"] = title
    drill = _call("POST", f"{_api_url(url)}/drills", json=body)
    console.print_json(json.dumps(drill))


@drill_app.command("schedule")
def drill_schedule(
    playbook: Annotated[str, typer.Argument(help="Playbook id")],
    every: Annotated[str, typer.Option(help="Interval, like 90d (at least 1d)")],
    participants: Annotated[str | None, typer.Option(help="Person ids taking part, comma-separated")] = None,
    severity: Annotated[str | None, typer.Option(help="SEV1..SEV4; defaults to the playbook's")] = None,
    url: Annotated[str | None, typer.Option(help="API base URL")] = None,
) -> None:
    """Drill a playbook on a recurring Temporal Schedule."""
    body: dict = {"playbook": playbook, "every": every, "participants": _participants(participants)}
    if severity:
        body["severity"] = severity
    schedule = _call("POST", f"{_api_url(url)}/drills/schedules", json=body)
    console.print(f"scheduled {schedule['id']}: {playbook} every {schedule['every']}, next run {schedule['next_run']}", markup=False, highlight=False)


@drill_app.command("schedules")
def drill_schedules(url: Annotated[str | None, typer.Option(help="API base URL")] = None) -> None:
    """List recurring drills."""
    table = Table("id", "playbook", "every", "participants", "next run", "runs so far")
    for schedule in _call("GET", f"{_api_url(url)}/drills/schedules"):
        table.add_row(schedule["id"], schedule["playbook"], schedule["every"], ", ".join(schedule["participants"]) or "whole team",
                      schedule["next_run"] or "—", str(len(schedule["recent_runs"])))
    console.print(table)


@drill_app.command("unschedule")
def drill_unschedule(
    schedule_id: Annotated[str, typer.Argument(help="Schedule id, from `crisis drill schedules`")],
    url: Annotated[str | None, typer.Option(help="API base URL")] = None,
) -> None:
    """Delete a recurring drill (a drill already running carries on)."""
    _call("DELETE", f"{_api_url(url)}/drills/schedules/{schedule_id}")
    console.print(f"unscheduled {schedule_id}", markup=False, highlight=False)
