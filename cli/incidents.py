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
    url: Annotated[
        str | None, typer.Option(help="API base URL (default: the `crisis dev` of this folder, see docs/operations.md)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the incident as the API's JSON instead of a summary")] = False,
) -> None:
    """Declare an incident through the API; prints its page's full URL."""
    body = {"playbook": playbook, "title": title, "summary": summary, "drill": drill}
    if severity:
        body["severity"] = severity
    if headline:
        body["fact_sheet"] = {"headline": headline}
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    base = api_url(url)
    incident = call("POST", f"{base}/incidents", json=body, headers=headers, options=DECLARE_OPTIONS)
    if as_json:
        console.print_json(json.dumps(incident))
        return
    kind = "drill" if incident.get("drill") else "incident"
    console.print(
        f"declared {kind} {incident['id']}: {incident['severity']} {incident['playbook']}, phase {incident['phase']}",
        markup=False,
        highlight=False,
    )
    console.print(f"  page  {page_url(base, incident['id'])}", markup=False, highlight=False)


DECLARE_OPTIONS = {
    "playbook": "PLAYBOOK",
    "title": "--title",
    "summary": "--summary",
    "severity": "--severity",
    "drill": "--drill",
    "fact_sheet.headline": "--headline",
    "Idempotency-Key": "--idempotency-key",
}


def page_url(base: str, incident_id: str) -> str:
    """The incident's page in the browser, in full, so a terminal makes it a link."""
    return f"{base}/incidents/{incident_id}/view"


def list_incidents(
    status: Annotated[str | None, typer.Option(help="open or closed")] = None,
    url: Annotated[
        str | None, typer.Option(help="API base URL (default: the `crisis dev` of this folder, see docs/operations.md)")
    ] = None,
) -> None:
    """List incidents with their phase and what they wait on."""
    params = {"status": status} if status else {}
    base = api_url(url)
    incidents = call("GET", f"{base}/incidents", params=params, options={"status": "--status"})
    table = Table("id", "severity", "phase", "title", "waiting on", "page")
    for incident in incidents:
        waiting = "; ".join(item["title"] for item in incident["pending"])
        table.add_row(
            incident["id"], incident["severity"], incident["phase"], incident["title"], waiting, page_url(base, incident["id"])
        )
    console.print(table)
