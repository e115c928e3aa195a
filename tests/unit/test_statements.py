import uuid

import pytest

from domain import statements
from domain.factsheet import FIELDS, FactSheet
from domain.statements import (
    INTERNAL_NAMES,
    StatementContext,
    StatementKind,
    TemplateProblem,
    names_problems,
    render_forms,
    render_statement,
    sample_contexts,
)
from domain.variants import Form
from tests.unit.conftest import FIXTURES

TEMPLATE = (FIXTURES / "templates" / "account_compromise.en.j2").read_text(encoding="utf-8")
SHEET = FactSheet(
    headline="Our Instagram account was taken over",
    what_happened="Since 9:12 our Instagram account has been posting a fake giveaway.",
    what_to_do="Don't click links in its posts or messages.",
    status_page="https://status.northwind.example.com",
)


def context(kind: StatementKind = StatementKind.HOLDING, **overrides) -> StatementContext:
    fields = dict(kind=kind, organization="Northwind Coffee", fact_sheet=SHEET, next_update="14:30 CET", drill=False)
    fields.update(overrides)
    return StatementContext(**fields)


def test_the_long_holding_statement_is_drafted_from_the_fact_sheet():
    text = render_statement(TEMPLATE, context())
    paragraphs = text.split("\n\n")
    assert paragraphs[0] == "Our Instagram account was taken over."
    assert "Since 9:12 our Instagram account has been posting a fake giveaway." in paragraphs
    assert "Don't click links in its posts or messages." in paragraphs
    assert "Northwind Coffee will never ask for these by direct message." in text
    assert "Updates: https://status.northwind.example.com" in paragraphs
    assert paragraphs[-1] == "Next update by 14:30 CET."


def test_a_template_gives_a_title_a_short_and_a_long_form():
    forms = render_forms(TEMPLATE, context())
    assert forms[Form.TITLE] == "Security notice: Our Instagram account was taken over"
    assert forms[Form.SHORT].startswith("Our Instagram account was taken over. Until we confirm it's secure")
    assert "\n" not in forms[Form.SHORT] and len(forms[Form.SHORT]) < len(forms[Form.LONG])


def test_the_title_is_one_line_whatever_the_template_writes():
    assert render_statement("A\n\n  title  \n", context(), Form.TITLE) == "A title"


def test_update_and_resolution_statements():
    assert render_statement(TEMPLATE, context(StatementKind.UPDATE, next_update="16:00 CET")).endswith(
        "Next update by 16:00 CET."
    )
    text = render_statement(TEMPLATE, context(StatementKind.RESOLUTION, next_update=None))
    assert text.startswith("Resolved: Our Instagram account was taken over. Our account is back under our control")
    assert "Next update" not in text


def test_an_empty_fact_sheet_renders_only_what_is_true_of_any_incident_of_the_kind():
    text = render_statement(TEMPLATE, context(fact_sheet=FactSheet()))
    assert text.startswith("Someone outside our team has got into one of our social media accounts.")
    assert "https://" not in text


def test_without_a_next_update_the_line_is_left_out():
    assert "Next update" not in render_statement(TEMPLATE, context(next_update=None))


def test_drill_statements_start_with_the_drill_prefix_in_every_form():
    for form, text in render_forms(TEMPLATE, context(drill=True)).items():
        assert text.startswith("[DRILL] ") and text.count("[DRILL]") == 1, form


def test_output_keeps_at_most_one_blank_line_between_paragraphs():
    assert (
        render_statement("\n\n  {{ headline }}   \n\n\n\nsecond   \n\n", context())
        == "Our Instagram account was taken over\n\nsecond"
    )


def test_the_sentence_filter_ends_a_field_with_one_full_stop():
    source = "{{ headline | sentence }}|{{ what_to_do | sentence }}|{{ remedy | sentence }}"
    assert (
        render_statement(source, context())
        == "Our Instagram account was taken over.|Don't click links in its posts or messages.|"
    )


def test_the_template_sees_the_kind_the_form_and_the_changed_fields():
    source = "{{ kind }} {{ form }} {{ changed | join(',') }}"
    assert (
        render_statement(source, context(StatementKind.UPDATE, changed=("headline", "remedy")), Form.SHORT)
        == "update short headline,remedy"
    )


def test_templates_are_not_html_escaped():
    assert render_statement("{{ headline }}", context(fact_sheet=FactSheet(headline="Q&A <live>"))) == "Q&A <live>"


@pytest.mark.parametrize("name", sorted(INTERNAL_NAMES))
def test_a_template_naming_an_internal_field_is_refused_by_name(name):
    problems = names_problems(f"Hello {{{{ {name} }}}}")
    assert problems[0].startswith(f"names '{name}', an internal field the public never reads; templates see only: ")
    with pytest.raises(TemplateProblem, match=f"names '{name}', an internal field"):
        render_statement(
            f"{{% if kind == 'x' %}}{{{{ {name} }}}}{{% else %}}ok{{% endif %}}", context()
        )  # even in a branch not taken


def test_an_unknown_name_is_a_template_problem_listing_what_templates_see():
    with pytest.raises(TemplateProblem) as info:
        render_statement("Dear {{ customer }}", context())
    assert str(info.value).startswith(
        "names 'customer', which templates do not have; they see only: changed, faq, form, headline"
    )
    assert all(name in str(info.value) for name in FIELDS)


def test_an_undefined_attribute_is_a_template_problem():
    with pytest.raises(TemplateProblem, match="^UndefinedError: "):
        render_statement("{{ headline.nonexistent }}", context())


def test_a_syntax_error_is_a_template_problem():
    with pytest.raises(TemplateProblem, match="^line 1: "):
        render_statement("{% if kind == 'holding' %}unterminated", context())


def test_a_template_that_renders_nothing_is_a_problem():
    with pytest.raises(TemplateProblem) as info:
        render_statement("{% if kind == 'resolution' %}Done{% endif %}", context(StatementKind.UPDATE))
    assert str(info.value) == "renders to an empty update statement (long form)"


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ headline.__class__ }}",
        "{{ changed.__class__.__base__ }}",
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
        "{{ headline + 1 }}",  # TypeError
        "{{ range(1000000) | list | length }}",  # the sandbox's OverflowError
    ],
)
def test_a_template_failing_at_render_time_is_a_template_problem(source):
    # Templates are authored data; any failure to render must come back as a TemplateProblem so
    # the catalog check reports it, rather than leaking a Python exception.
    with pytest.raises(TemplateProblem):
        render_statement(source, context())


def test_a_template_is_parsed_and_compiled_once_however_often_it_renders(monkeypatch):
    # A catalog load renders every template in every kind, form and sample fact sheet; parsing and
    # compiling the same source each time made every load take seconds of CPU.
    source = f"{{# {uuid.uuid4()} #}}" + TEMPLATE  # a source no other test has rendered
    expected = {kind: render_forms(TEMPLATE, context(kind)) for kind in StatementKind}
    calls = {"parse": 0, "from_string": 0}

    def counting(name):
        real = getattr(statements._ENV, name)

        def counted(*args, **kwargs):
            calls[name] += 1
            return real(*args, **kwargs)

        return counted

    for name in calls:
        monkeypatch.setattr(statements._ENV, name, counting(name))
    for kind in StatementKind:
        assert render_forms(source, context(kind)) == expected[kind]
    assert calls == {"parse": 1, "from_string": 1}


def test_a_syntax_error_is_worded_the_same_every_time():
    for _ in range(2):
        assert names_problems("{% if kind %}unterminated") == [
            "line 1: Unexpected end of template. Jinja was looking for the following tags: 'elif' or 'else' or 'endif'. The"
            " innermost block that needs to be closed is 'if'."
        ]


def test_sample_contexts_cover_every_kind_with_an_empty_and_a_full_sheet_as_a_drill():
    samples = sample_contexts("Example", "pl")
    assert {(c.kind, c.fact_sheet.is_empty()) for c in samples} == {
        (kind, empty) for kind in StatementKind for empty in (True, False)
    }
    assert all(c.organization == "Example" and c.drill for c in samples)
    assert all(c.next_update for c in samples if c.kind is not StatementKind.RESOLUTION)
    assert all(c.next_update is None for c in samples if c.kind is StatementKind.RESOLUTION)
    full = next(c.fact_sheet for c in samples if not c.fact_sheet.is_empty())
    assert all(getattr(full, name) for name in FIELDS) and "ł" in full.what_to_do + full.remedy  # Polish: SMS in UCS-2
