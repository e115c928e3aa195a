"""``crisis doctor``: which channel each kind of message uses, and whether its settings look right."""

import typer
from rich.table import Table

from cli.common import console, errors, load_settings


def doctor() -> None:
    """Say which channel each kind of message uses and check the provider settings' form (sends nothing)."""
    from pydantic import ValidationError

    from channels.doctor import diagnose

    try:
        settings = load_settings()
    except ValidationError as error:
        for problem in error.errors():
            errors.print(f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}", markup=False, highlight=False)
        raise typer.Exit(1) from None
    diagnosis = diagnose(settings)
    table = Table("kind", "channel", "details")
    for choice in diagnosis.channels:
        table.add_row(choice.kind.value, choice.provider, choice.detail)
    console.print(table)
    targets = Table("publishing target", "channel", "details")
    for target in diagnosis.publishing:
        targets.add_row(
            target.target, target.provider, target.detail + (f" — LEFT OUT: {target.problem}" if target.problem else "")
        )
    console.print(targets)
    from channels.registry import chat_choices

    chats = Table("chat", "details")
    for name, detail in chat_choices(settings):
        chats.add_row(name, detail)
    console.print(chats)
    for warning in diagnosis.warnings:
        console.print(f"warning: {warning}", style="yellow", markup=False, highlight=False)
    for problem in diagnosis.errors:
        errors.print(f"error: {problem}", style="red", markup=False, highlight=False)
    if not diagnosis.ok:
        errors.print(f"{len(diagnosis.errors)} problem(s) in the channel settings", style="red")
        raise typer.Exit(1)
    console.print("channel settings look right (nothing was sent)", style="green")
