"""Authored models refuse unknown fields where people write them, and drop them where a pinned
workflow input is read back from history (a field removed from the schema since)."""

import pytest
from pydantic import Field, ValidationError

from domain.lenient import Authored, LenientInput


class Step(Authored):
    name: str
    owner: str = Field("nobody", alias="role")


class Plan(LenientInput):
    title: str
    steps: list[Step]


def test_an_authored_model_refuses_a_field_it_does_not_know():
    with pytest.raises(ValidationError, match="colour"):
        Step.model_validate({"name": "draft", "colour": "red"})


def test_a_pinned_input_drops_the_fields_its_models_no_longer_know():
    text = '{"title": "t", "steps": [{"name": "a", "role": "comms", "colour": "red"}, {"name": "b"}]}'
    for plan in (
        Plan.model_validate_json(text),
        Plan.model_validate({"title": "t", "steps": [{"name": "a", "role": "comms", "colour": "red"}, {"name": "b"}]}),
    ):
        assert plan.steps == [Step(name="a", role="comms"), Step(name="b")]
    with pytest.raises(ValidationError, match="colour"):  # and only while decoding one
        Step.model_validate({"name": "draft", "colour": "red"})


def test_a_pinned_input_still_refuses_what_breaks_a_model():
    with pytest.raises(ValidationError, match="name"):
        Plan.model_validate_json('{"title": "t", "steps": [{"role": "comms"}]}')
