"""``crisis drill``: run a playbook as an exercise now, or on a recurring Temporal Schedule."""

import json
from typing import Annotated

import typer
from rich.table import Table
from typer.core import TyperGroup

from cli.common import api_url, call, console


class _DrillGroup(TyperGroup):
    """``crisis drill PLAYBOOK`` runs a drill now; ``schedule``, ``schedules`` and ``unschedule``
    manage recurring ones."""

    def resolve_command(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["run", *args]
        return super().resolve_command(ctx, args)


app = typer.Typer(
    cls=_DrillGroup,
    no_args_is_help=True,
    help=(
        "Run a playbook as an exercise ([DRILL] everywhere, nothing published outside): crisis drill PLAYBOOK [--participants"
        " a,b]."
    ),
)


def _participants(value: str | None) -> list[str]:
    return [person.strip() for person in (value or "").split(",") if person.strip()]


@app.command("run")
def drill_run(
    playbook: Annotated[str, typer.Argument(help="Playbook id, for example account_compromise")],
    participants: Annotated[
        str | None, typer.Option(help="Person ids taking part, comma-separated; only they are paged (default: the whole team)")
    ] = None,
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
    drill = call("POST", f"{api_url(url)}/drills", json=body)
    console.print_json(json.dumps(drill))


@app.command("schedule")
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
    schedule = call("POST", f"{api_url(url)}/drills/schedules", json=body)
    console.print(
        f"scheduled {schedule['id']}: {playbook} every {schedule['every']}, next run {schedule['next_run']}",
        markup=False,
        highlight=False,
    )


@app.command("schedules")
def drill_schedules(url: Annotated[str | None, typer.Option(help="API base URL")] = None) -> None:
    """List recurring drills."""
    table = Table("id", "playbook", "every", "participants", "next run", "runs so far")
    for schedule in call("GET", f"{api_url(url)}/drills/schedules"):
        table.add_row(
            schedule["id"],
            schedule["playbook"],
            schedule["every"],
            ", ".join(schedule["participants"]) or "whole team",
            schedule["next_run"] or "—",
            str(len(schedule["recent_runs"])),
        )
    console.print(table)


@app.command("unschedule")
def drill_unschedule(
    schedule_id: Annotated[str, typer.Argument(help="Schedule id, from `crisis drill schedules`")],
    url: Annotated[str | None, typer.Option(help="API base URL")] = None,
) -> None:
    """Delete a recurring drill (a drill already running carries on)."""
    call("DELETE", f"{api_url(url)}/drills/schedules/{schedule_id}")
    console.print(f"unscheduled {schedule_id}", markup=False, highlight=False)
