"""The ``crisis`` command (typer): one module per command group, all sharing cli.common (settings,
consoles, the database engine and the API client). The order here is the order ``crisis --help``
lists them."""

import signal
import sys


def _interrupted(_signum, _frame) -> None:
    """Ctrl-C ends any command with one line and exit status 130, never a traceback, even while the
    command is still importing (seconds on a loaded machine). The long-running commands (dev,
    worker, api) replace this with their own graceful stop once their event loop runs."""
    sys.stderr.write("\ninterrupted (Ctrl-C): stopped\n")
    raise SystemExit(130)


signal.signal(signal.SIGINT, _interrupted)  # before the imports below, which take the time

import typer  # noqa: E402

from cli import apikeys, db, doctor, drills, incidents, mentions, playbooks, readiness, services  # noqa: E402

app = typer.Typer(help="crisisflow: social-media crisis playbooks as durable Temporal workflows.", no_args_is_help=True)
app.add_typer(playbooks.app, name="playbooks")
app.add_typer(db.app, name="db")
app.add_typer(apikeys.app, name="apikey")
app.add_typer(mentions.app, name="mentions")
app.command()(services.dev)
app.command()(services.worker)
app.command()(services.api)
app.command()(incidents.declare)
app.command("ls")(incidents.list_incidents)
app.command()(doctor.doctor)
app.command()(readiness.readiness)
app.add_typer(drills.app, name="drill")
