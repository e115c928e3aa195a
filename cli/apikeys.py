"""``crisis apikey``: create, list and revoke API keys on DATABASE_URL (docs/security.md)."""

import asyncio
import sys
from typing import Annotated

import typer
from rich.table import Table

from cli.common import console, database, database_errors, errors, load_settings, refuse_database

app = typer.Typer(help="API keys (on DATABASE_URL): create, list, revoke. See docs/security.md.", no_args_is_help=True)


async def _with_keys(operation):
    """Run ``operation(session)`` on DATABASE_URL, once its schema is known to be current."""
    from store.db import session_factory
    from store.migrate import check_schema

    async with database(load_settings().database_url) as engine:
        await check_schema(engine)
        async with session_factory(engine)() as session:
            return await operation(session)


def _keys(operation):
    from store.apikeys import KeyProblem

    try:
        return asyncio.run(_with_keys(operation))
    except KeyProblem as problem:
        errors.print(str(problem), style="red", markup=False, highlight=False)
        raise typer.Exit(1) from None
    except database_errors() as error:
        raise refuse_database(error) from None


@app.command("create")
def apikey_create(
    name: Annotated[str, typer.Option(help="Who or what uses it; the timeline shows it beside each action")],
    scopes: Annotated[
        str,
        typer.Option(
            help="Comma-separated: declare (declare incidents and drills), respond (every action on an incident), "
            "ingest (feed mentions to POST /mentions, nothing else), admin (everything, and API keys)"
        ),
    ],
) -> None:
    """Make an API key and print it, once: only its hash is kept."""
    from store import apikeys

    wanted = [scope.strip() for scope in scopes.split(",") if scope.strip()]
    issued = _keys(lambda session: apikeys.create(session, name, wanted))
    console.print(
        f"API key '{issued.row.name}' (id {issued.row.id}, scopes {','.join(issued.row.scopes)}) — shown this once:",
        markup=False,
        highlight=False,
    )
    sys.stdout.write(issued.key + "\n")


@app.command("list")
def apikey_list() -> None:
    """Every API key with its scopes and state (never the key itself)."""
    from store import apikeys

    rows = _keys(apikeys.list_keys)
    table = Table("id", "name", "scopes", "starts with", "created", "state")
    for row in rows:
        state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M} UTC" if row.revoked_at else "active"
        table.add_row(
            str(row.id), row.name, ",".join(row.scopes), row.prefix + "…", f"{row.created_at:%Y-%m-%d %H:%M} UTC", state
        )
    console.print(table)


@app.command("revoke")
def apikey_revoke(key: Annotated[str, typer.Argument(help="The key's id or name")]) -> None:
    """Revoke a key: it stops working at its next request."""
    from store import apikeys

    row = _keys(lambda session: apikeys.revoke(session, key))
    console.print(f"API key '{row.name}' (id {row.id}) is revoked", markup=False, highlight=False)
