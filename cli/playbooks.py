"""``crisis playbooks``: check and describe playbooks."""

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.common import console, load_settings, refuse_invalid_catalog
from cli.readiness import reachability
from domain.catalog import load_catalog
from domain.playbook import Playbook

app = typer.Typer(help="Check and describe playbooks.", no_args_is_help=True)


@app.command("check")
def check_playbooks(
    directory: Annotated[Path | None, typer.Argument(help="Folder; defaults to CRISIS_PLAYBOOKS_DIR")] = None,
) -> None:
    """Validate a playbooks folder; print every problem as file:path: reason."""
    directory = directory or load_settings().playbooks_dir
    refuse_invalid_catalog(directory)
    catalog = load_catalog(directory)
    console.print(
        f"{directory}: team of {len(catalog.roster.people)}, {len(catalog.playbooks)} playbooks"
        f" ({', '.join(sorted(catalog.playbooks))}), {len(catalog.risks)} risks, {len(catalog.answers)} answers kits,"
        f" {len(catalog.topics)} monitored topics — all valid"
    )
    reachability(load_settings(), catalog.roster)


@app.command("schema")
def playbook_schema() -> None:
    """Print the playbook JSON Schema (for editors)."""
    sys.stdout.write(json.dumps(Playbook.model_json_schema(), indent=2) + "\n")
