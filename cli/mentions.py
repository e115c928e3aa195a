"""``crisis mentions``: social-media mentions for listening."""

from pathlib import Path
from typing import Annotated

import typer

from cli.common import api_url, authorization, console, errors

app = typer.Typer(help="Social-media mentions for listening.", no_args_is_help=True)


@app.command("import")
def import_mentions(
    file: Annotated[
        Path, typer.Argument(help="A listening tool's export: JSON Lines (one mention a line) or .csv with a header")
    ],
    batch: Annotated[int, typer.Option(help="Mentions per request (at most 5000)")] = 1000,
    url: Annotated[str | None, typer.Option(help="API base URL")] = None,
) -> None:
    """Post a file of mentions to POST /mentions; posts already stored are skipped, so re-running is safe."""
    from api.mention_import import ImportProblem, post_all, read_file

    try:
        result = post_all(api_url(url), file, read_file(file), batch, headers=authorization())
    except ImportProblem as problem:
        errors.print(str(problem), style="red", markup=False, highlight=False)
        raise typer.Exit(1) from None
    topics = ", ".join(f"{topic} {count:,}" for topic, count in sorted(result.topics.items())) or "none"
    console.print(
        f"{file}: {result.read:,} read, {result.stored:,} stored, {result.duplicates:,} duplicates skipped; "
        f"stored by topic: {topics}",
        markup=False,
        highlight=False,
    )
