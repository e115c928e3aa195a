"""``crisis db``: the read model's database schema (Alembic migrations)."""

import asyncio
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from cli.common import configure_logging, console, database, database_errors, errors, load_settings, refuse_database

app = typer.Typer(help="The read model's database schema (Alembic migrations).", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision")] = "head",
    sql: Annotated[bool, typer.Option("--sql", help="Print the SQL for review instead of running it")] = False,
) -> None:
    """Migrate DATABASE_URL to the latest schema (or REVISION). Safe to repeat; on PostgreSQL concurrent runs take turns."""
    from store import migrate

    settings = load_settings()
    if sql:
        migrate.upgrade_sql(settings.database_url, revision)
        return
    configure_logging(settings)

    async def run():
        async with database(settings.database_url) as engine:
            return await migrate.upgrade(engine, revision)

    try:
        before, after = asyncio.run(run())
    except database_errors() as error:
        raise refuse_database(error) from None
    if before == after:
        console.print(f"{settings.database_url_safe}: schema already at {after}", markup=False, highlight=False)
    else:
        console.print(
            f"{settings.database_url_safe}: schema upgraded from {before or 'nothing'} to {after}", markup=False, highlight=False
        )


@app.command("current")
def db_current() -> None:
    """Print the database's schema revision and the one the code needs; exit 1 when behind."""
    from store import migrate

    settings = load_settings()

    async def run():
        async with database(settings.database_url) as engine:
            current = await migrate.current_revision(engine)
            try:
                await migrate.check_schema(engine)
                return current, None
            except migrate.SchemaBehind as behind:
                return current, behind

    try:
        current, behind = asyncio.run(run())
    except database_errors() as error:
        raise refuse_database(error) from None
    console.print(f"database {current or 'empty'}, code {migrate.head_revision()}", markup=False, highlight=False)
    if behind is not None:
        errors.print(str(behind), style="red", markup=False, highlight=False)
        raise typer.Exit(1)


@app.command("revision")
def db_revision(
    message: Annotated[str, typer.Option("-m", "--message", help="What the revision does, e.g. 'notification ledger'")],
    empty: Annotated[bool, typer.Option("--empty", help="An empty revision to fill in (data migrations)")] = False,
) -> None:
    """Write the next numbered migration from what store/models.py has and the migrations lack."""
    from store import migrate

    path = asyncio.run(migrate.new_revision(message, autogenerate=not empty))
    console.print(
        f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}: review it, then run the tests",
        markup=False,
        highlight=False,
    )


@app.command("check")
def db_check() -> None:
    """Compare the models with the migrations (a scratch SQLite database at head); exit 1 on any difference."""
    from store import migrate

    async def run():
        with tempfile.TemporaryDirectory(prefix="crisis-check-") as scratch:
            async with database(f"sqlite+aiosqlite:///{Path(scratch) / 'check.db'}") as engine:
                await migrate.upgrade(engine)
                async with engine.connect() as connection:
                    return await connection.run_sync(migrate.schema_differences)

    differences = asyncio.run(run())
    if differences:
        for difference in differences:
            errors.print(str(difference), markup=False, highlight=False)
        errors.print(
            'the models and the migrations differ: `crisis db revision -m "..."` writes the missing revision', style="red"
        )
        raise typer.Exit(1)
    console.print(f"models and migrations agree (head {migrate.head_revision()})")
