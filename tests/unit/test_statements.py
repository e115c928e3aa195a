import pytest

from domain.statements import StatementContext, StatementKind, TemplateProblem, render_statement, sample_contexts
from tests.unit.conftest import FIXTURES, SHIPPED

TEMPLATE = (FIXTURES / "templates" / "account_compromise.en.j2").read_text(encoding="utf-8")


def context(kind: StatementKind = StatementKind.HOLDING, **overrides) -> StatementContext:
    fields = dict(
        kind=kind,
        organization="Northwind Coffee",
        title="Instagram account hijacked",
        summary="Our Instagram account is posting a fake giveaway.",
        severity="SEV1",
        facts=("The giveaway is fake.", "No card data was taken."),
        next_update="14:30 UTC",
        resolution=None,
        drill=False,
    )
    fields.update(overrides)
    return StatementContext(**fields)


def test_holding_statement_uses_title_summary_facts_organization_and_next_update():
    text = render_statement(TEMPLATE, context(StatementKind.HOLDING))
    lines = text.splitlines()
    assert lines[0] == "Security notice: Instagram account hijacked"
    assert "Our Instagram account is posting a fake giveaway." in lines[1]
    assert "- The giveaway is fake." in lines
    assert "- No card data was taken." in lines
    assert "Northwind Coffee will never ask for these by direct message." in text
    assert lines[-1] == "Next update by 14:30 UTC."


def test_update_statement():
    text = render_statement(TEMPLATE, context(StatementKind.UPDATE, next_update="16:00 UTC"))
    assert text.startswith("Update: Instagram account hijacked\n")
    assert text.endswith("Next update by 16:00 UTC.")


def test_resolution_statement_tells_the_resolution_and_promises_no_further_update():
    text = render_statement(TEMPLATE, context(StatementKind.RESOLUTION, next_update=None, resolution="We have the account back."))
    assert text.startswith("Resolved: Instagram account hijacked\nWe have the account back.\n")
    assert "Next update" not in text


def test_holding_without_a_next_update_leaves_the_line_out():
    assert "Next update" not in render_statement(TEMPLATE, context(next_update=None))


def test_drill_statements_start_with_the_drill_prefix():
    text = render_statement(TEMPLATE, context(drill=True))
    assert text.startswith("[DRILL] Security notice: Instagram account hijacked\n")
    assert text.count("[DRILL]") == 1


def test_real_statements_carry_no_drill_prefix():
    assert "[DRILL]" not in render_statement(TEMPLATE, context(drill=False))


def test_output_is_stripped_of_surrounding_blank_lines_and_trailing_spaces():
    assert render_statement("\n\n  {{ title }}   \n\nsecond   \n\n", context()) == "Instagram account hijacked\n\nsecond"


def test_the_template_sees_kind_and_severity_as_plain_values():
    assert render_statement("{{ kind }} {{ severity }}", context(StatementKind.UPDATE)) == "update SEV1"


def test_templates_are_not_html_escaped():
    assert render_statement("{{ title }}", context(title="Q&A <live>")) == "Q&A <live>"


def test_an_undefined_variable_is_a_template_problem():
    with pytest.raises(TemplateProblem) as info:
        render_statement("Dear {{ customer }}", context())
    assert str(info.value) == "UndefinedError: 'customer' is undefined"


def test_an_undefined_attribute_is_a_template_problem():
    with pytest.raises(TemplateProblem, match="^UndefinedError: "):
        render_statement("{{ title.nonexistent }}", context())


def test_a_syntax_error_is_a_template_problem():
    with pytest.raises(TemplateProblem, match="^TemplateSyntaxError: "):
        render_statement("{% if kind == 'holding' %}unterminated", context())


def test_a_template_that_renders_nothing_is_a_problem():
    with pytest.raises(TemplateProblem) as info:
        render_statement("{% if kind == 'resolution' %}Done{% endif %}", context(StatementKind.UPDATE))
    assert str(info.value) == "renders to an empty update statement"


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ title.__class__ }}",
        "{{ facts.__class__.__base__ }}",
        "{{ cycler.__init__.__globals__ }}",
    ],
)
def test_the_sandbox_refuses_python_internals(source):
    with pytest.raises(TemplateProblem, match="^SecurityError: "):
        render_statement(source, context())


@pytest.mark.parametrize(
    "source",
    [
        "{{ 1 / 0 }}",  # ZeroDivisionError
        "{{ title + 1 }}",  # TypeError
        "{{ range(1000000) | list | length }}",  # the sandbox's OverflowError
    ],
)
def test_a_template_failing_at_render_time_is_a_template_problem(source):
    # Templates are authored data; any failure to render must come back as a TemplateProblem so
    # the catalog check reports it, rather than leaking a Python exception.
    with pytest.raises(TemplateProblem):
        render_statement(source, context())


def test_sample_contexts_cover_every_kind_with_the_fields_each_needs():
    samples = {c.kind: c for c in sample_contexts("Example")}
    assert set(samples) == set(StatementKind)
    assert all(c.organization == "Example" and not c.drill for c in samples.values())
    assert samples[StatementKind.HOLDING].next_update
    assert samples[StatementKind.UPDATE].next_update
    assert samples[StatementKind.RESOLUTION].resolution
    assert samples[StatementKind.RESOLUTION].next_update is None


@pytest.mark.parametrize("name", sorted(p.name for p in (SHIPPED / "templates").glob("*.j2")))
@pytest.mark.parametrize("kind", list(StatementKind))
def test_every_shipped_template_renders_every_kind(name, kind):
    source = (SHIPPED / "templates" / name).read_text(encoding="utf-8")
    sample = next(c for c in sample_contexts("Northwind Coffee") if c.kind is kind)
    assert render_statement(source, sample).strip()
