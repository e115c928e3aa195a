"""Statement templates: Jinja2 in a sandbox, so a playbook file can never run code."""

from dataclasses import dataclass, field
from enum import StrEnum

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from domain.factsheet import FIELDS as FACT_SHEET_FIELDS
from domain.factsheet import FactSheet

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True)


class StatementKind(StrEnum):
    HOLDING = "holding"
    UPDATE = "update"
    RESOLUTION = "resolution"


@dataclass(frozen=True)
class StatementContext:
    """Everything a template may use: the public fact sheet (each field by its own name), the
    organisation and ``next_update`` (the promised time of the next update, as the public reads it).
    Nothing personal about the crisis team.

    ``title``, ``summary``, ``severity``, ``facts`` and ``resolution`` are the internal declaration
    and assessment, still passed while the built-in templates move to the fact sheet."""

    kind: StatementKind
    organization: str
    title: str
    summary: str
    severity: str
    facts: tuple[str, ...] = ()
    next_update: str | None = None
    resolution: str | None = None
    drill: bool = False
    fact_sheet: FactSheet = field(default_factory=FactSheet)


class TemplateProblem(ValueError):
    pass


def render_statement(source: str, context: StatementContext) -> str:
    try:
        text = _ENV.from_string(source).render(
            kind=context.kind.value,
            organization=context.organization,
            title=context.title,
            summary=context.summary,
            severity=context.severity,
            facts=list(context.facts),
            next_update=context.next_update,
            resolution=context.resolution,
            **{name: getattr(context.fact_sheet, name) for name in FACT_SHEET_FIELDS},
        )
    except Exception as error:  # a template is data: whatever it raises is a problem with the template
        raise TemplateProblem(f"{type(error).__name__}: {error}") from None
    text = "\n".join(line.rstrip() for line in text.strip().splitlines())
    if not text:
        raise TemplateProblem(f"renders to an empty {context.kind.value} statement")
    return f"[DRILL] {text}" if context.drill else text


def sample_contexts(organization: str) -> list[StatementContext]:
    """One context per statement kind, used to prove a template renders before it is needed."""
    common = dict(
        organization=organization,
        title="Sample incident",
        summary="A sample summary.",
        severity="SEV2",
        facts=("A verified fact.",),
    )
    return [
        StatementContext(kind=StatementKind.HOLDING, next_update="14:30 UTC", **common),
        StatementContext(kind=StatementKind.UPDATE, next_update="15:00 UTC", **common),
        StatementContext(kind=StatementKind.RESOLUTION, resolution="The issue is fixed.", **common),
    ]
