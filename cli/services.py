"""The long-running processes: ``crisis dev`` (the whole stack), ``crisis worker`` and ``crisis api``."""

import asyncio
from pathlib import Path

import typer

from cli.common import (
    configure_logging,
    console,
    database,
    database_errors,
    errors,
    load_settings,
    refuse_bad_temporal_settings,
    refuse_database,
    refuse_invalid_catalog,
    run_service,
)
from services.allocator import cap_arenas
from settings import Settings


def dev() -> None:
    """Run the whole stack: Temporal dev server, worker and API (Ctrl-C stops all three)."""
    import devstack

    settings = load_settings()
    cap_arenas(settings.worker_malloc_arenas)  # before any thread starts (the worker's run in this process)
    refuse_invalid_catalog(settings.playbooks_dir)
    listeners = None
    try:
        listeners = devstack.claim_ports(settings)
        devstack.check_data_dir(settings)
    except devstack.InUse as error:
        if listeners is not None:
            listeners.close()
        errors.print(str(error), style="red", markup=False, highlight=False)
        raise typer.Exit(1) from None
    configure_logging(settings, access_log=settings.log_format == "json")

    def announce(ready: Settings, key_file: Path | None) -> None:
        console.print(f"[bold green]crisisflow is running[/] (data in {ready.data_dir.resolve()})")
        console.print(f"  API docs     {ready.public_url}/docs")
        console.print(f"  Dashboard    {ready.public_url}/")
        console.print(f"  Temporal UI  {ready.temporal_ui_url} (read-only)")
        if key_file is None:
            console.print("  API key      CRISIS_API_KEY (admin)")
        else:
            console.print(
                f"  API key      {ready.api_key.get_secret_value()} (admin; kept in {key_file.resolve()})",
                markup=False,
                highlight=False,
            )
        console.print(
            "  CLI          crisis ls, crisis declare … in this folder; from another: export"
            f" CRISIS_DATA_DIR={ready.data_dir.resolve()}",
            markup=False,
            highlight=False,
        )
        console.print("Press Ctrl-C to stop.", style="dim")

    try:
        run_service(devstack.run_stack(settings, announce, listeners))
    except RuntimeError as error:
        errors.print(str(error), style="red")
        raise typer.Exit(1) from None
    except database_errors() as error:
        raise refuse_database(error) from None
    finally:
        listeners.close()
    console.print("stopped: API, worker and Temporal dev server")


def worker() -> None:
    """Run a worker against CRISIS_TEMPORAL_ADDRESS."""
    from worker import run_worker

    settings = load_settings()
    cap_arenas(settings.worker_malloc_arenas)  # before any thread starts
    refuse_invalid_catalog(settings.playbooks_dir)
    refuse_bad_temporal_settings(settings)
    configure_logging(settings)
    try:
        run_service(run_worker(settings))
    except database_errors() as error:
        raise refuse_database(error) from None


def api() -> None:
    """Run the HTTP API against CRISIS_TEMPORAL_ADDRESS."""
    import uvicorn

    from api.main import create_app
    from services.heap import freeze_startup_heap

    settings = load_settings()
    refuse_invalid_catalog(settings.playbooks_dir)
    refuse_bad_temporal_settings(settings)
    configure_logging(settings)
    try:
        asyncio.run(_check_schema(settings))
    except database_errors() as error:
        raise refuse_database(error) from None
    app = create_app(settings)
    freeze_startup_heap()
    uvicorn.run(app, host=settings.api_host, port=settings.api_port, log_config=None, access_log=False)


async def _check_schema(settings: Settings) -> None:
    from store.migrate import check_schema

    async with database(settings.database_url) as engine:
        await check_schema(engine)
