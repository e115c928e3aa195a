"""``crisis declare`` and ``crisis ls``: incidents through the API."""

import json
from typing import Annotated

import typer
from rich.table import Table

from cli.common import api_url, call, console


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
    incident = call("POST", f"{api_url(url)}/incidents", json=body, headers=headers)
    console.print_json(json.dumps(incident))


def list_incidents(
    status: Annotated[str | None, typer.Option(help="open or closed")] = None,
    url: Annotated[str | None, typer.Option(help="API base URL")] = None,
) -> None:
    """List incidents with their phase and what they wait on."""
    params = {"status": status} if status else {}
    incidents = call("GET", f"{api_url(url)}/incidents", params=params)
    table = Table("id", "severity", "phase", "title", "waiting on")
    for incident in incidents:
        waiting = "; ".join(item["title"] for item in incident["pending"])
        table.add_row(incident["id"], incident["severity"], incident["phase"], incident["title"], waiting)
    console.print(table)
