"""``crisis readiness``: the risk register as a CI gate."""

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cli.common import console, database, errors, load_settings, refuse_invalid_catalog
from domain.catalog import load_catalog
from settings import Settings


def reachability(settings: Settings, roster) -> None:
    """Who cannot be reached on each channel a provider is configured for; and calling levels
    while calls are not configured (their pages land in the outbox)."""
    from channels.registry import sendgrid_configured, slack_configured, twilio_calls_configured, twilio_configured
    from domain.readiness import calling_roles, unreachable

    configured = [
        name
        for name, on in (
            ("sms", twilio_configured(settings)),
            ("call", twilio_calls_configured(settings)),
            ("email", sendgrid_configured(settings)),
            ("slack", slack_configured(settings)),
        )
        if on
    ]
    if roles := calling_roles(roster):
        if "call" not in configured:
            console.print(
                f"! {', '.join(roles)} call people, but Twilio calls are not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, "
                "TWILIO_FROM_NUMBER): those calls go to the outbox",
                style="yellow",
                markup=False,
                highlight=False,
            )
    if not configured:
        console.print("reachability: no provider is configured, every message goes to the outbox", markup=False, highlight=False)
        return
    missing = unreachable(roster, configured)
    for channel in configured:
        people = [item for item in missing if item.channel == channel]
        if not people:
            console.print(
                f"reachability {channel}: all {len(roster.people)} people can be reached", markup=False, highlight=False
            )
        for item in people:
            console.print(
                f"! {channel}: {item.person} cannot be reached: {item.reason} (fix: {item.fix})",
                style="yellow",
                markup=False,
                highlight=False,
            )


def _last_drills(settings: Settings) -> tuple[dict, str | None]:
    """Each playbook's last drill date from the read model, or why it could not be read. A missing
    SQLite file is not created: readiness stays a read-only check."""
    from sqlalchemy.engine import make_url

    from store import service
    from store.db import session_factory

    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        return {}, f"no database at {url.database}"

    async def read():
        async with database(settings.database_url) as engine, session_factory(engine)() as session:
            return {playbook: at.date() for playbook, at in (await service.last_drills(session)).items()}

    try:
        return asyncio.run(read()), None
    except Exception as error:  # an unreachable or unmigrated database must not hide the readiness table
        return {}, f"{settings.database_url_safe}: {type(error).__name__}"


def readiness(
    directory: Annotated[Path | None, typer.Argument(help="Folder; defaults to CRISIS_PLAYBOOKS_DIR")] = None,
    require_drills: Annotated[
        bool,
        typer.Option(
            "--require-drills/--allow-undrilled",
            help=(
                "--allow-undrilled: a critical risk whose only failure is 'never drilled' does not fail the command (it is still"
                " not ready)"
            ),
        ),
    ] = True,
) -> None:
    """Readiness of every risk in risks.yaml; exits 1 when a critical risk is not ready (a CI gate)."""
    from datetime import datetime, timezone

    from channels.doctor import webhook_warnings
    from domain.readiness import Status, assess

    settings = load_settings()
    directory = directory or settings.playbooks_dir
    refuse_invalid_catalog(directory)
    catalog = load_catalog(directory)
    for warning in webhook_warnings(settings):
        console.print(f"! {warning}", style="yellow", markup=False, highlight=False)
    reachability(settings, catalog.roster)
    if not catalog.risks:
        console.print(f"{directory}: no risks.yaml, so no risk register to assess (see docs/preparedness.md)", markup=False)
        return
    drilled, unread = _last_drills(settings)
    if unread:
        console.print(
            f"no drill records read ({unread}): every risk counts as never drilled", style="yellow", markup=False, highlight=False
        )
    result = assess(catalog, datetime.now(timezone.utc).date(), last_drills=drilled)
    marks = {Status.PASS: "[green]✓[/]", Status.FAIL: "[red]✗[/]"}
    table = Table(
        "risk",
        "priority",
        "owner",
        "playbook",
        "last drill",
        "ready",
        "checks",
        title=f"Readiness of {catalog.roster.organization.name}",
    )
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
        console.print(
            f"critical risk(s) never drilled, let through by --allow-undrilled: {', '.join(undrilled)}",
            style="yellow",
            markup=False,
            highlight=False,
        )
    if gate:
        ids = ", ".join(item.risk.id for item in gate)
        errors.print(f"critical risk(s) not ready: {ids}", style="red", markup=False, highlight=False)
        raise typer.Exit(1)
