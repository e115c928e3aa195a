import json
from datetime import timedelta

import pytest
from pydantic import BaseModel, ValidationError

from domain.durations import Duration, format_duration, humanize, parse_duration


class Timer(BaseModel):
    after: Duration


# ---- parse_duration -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("5m", timedelta(minutes=5)),
        ("2h", timedelta(hours=2)),
        ("3d", timedelta(days=3)),
        ("1s", timedelta(seconds=1)),
        ("90m", timedelta(minutes=90)),
    ],
)
def test_parse_duration_reads_each_unit(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", [" 5m", "5m ", " 5 m ", "\t5m\n", "5 m"])
def test_parse_duration_ignores_surrounding_and_inner_whitespace(text):
    assert parse_duration(text) == timedelta(minutes=5)


@pytest.mark.parametrize("text", ["0s", "0m", "00h", "0d"])
def test_parse_duration_rejects_zero(text):
    with pytest.raises(ValueError, match="^a duration must be longer than zero$"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["5", "5x", "", "   ", "m", "1h30m", "-5m", "5.5m", "5M", "five minutes", "PT5M"])
def test_parse_duration_rejects_strings_that_are_not_durations(text):
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    assert str(info.value) == f"'{text}' is not a duration; write it as 90s, 5m, 2h or 3d"


@pytest.mark.parametrize("number", [5, 0, 90.0, 1.5, True])
def test_parse_duration_rejects_bare_numbers(number):
    with pytest.raises(ValueError, match="^write durations with a unit: 90s, 5m, 2h or 3d$"):
        parse_duration(number)


def test_parse_duration_passes_a_timedelta_through_to_pydantic():
    value = timedelta(minutes=7)
    assert parse_duration(value) is value


def test_parse_duration_reports_an_absurdly_long_duration_as_a_value_error():
    # A typo such as an extra row of digits must surface as a validation problem that pydantic
    # (and so load_catalog) can report, not as an OverflowError escaping from timedelta.
    with pytest.raises(ValueError):
        parse_duration("99999999999d")


# ---- format_duration ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (timedelta(seconds=90), "90s"),
        (timedelta(seconds=45), "45s"),
        (timedelta(minutes=5), "5m"),
        (timedelta(minutes=90), "90m"),
        (timedelta(hours=1), "1h"),
        (timedelta(hours=36), "36h"),
        (timedelta(days=3), "3d"),
        (timedelta(days=1, seconds=1), "86401s"),
    ],
)
def test_format_duration_uses_the_largest_unit_that_divides_exactly(value, expected):
    assert format_duration(value) == expected


@pytest.mark.parametrize("text", ["90s", "5m", "90m", "2h", "36h", "3d", "86401s"])
def test_format_duration_reverses_parse_duration(text):
    assert format_duration(parse_duration(text)) == text


# ---- humanize -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (timedelta(0), "0 s"),
        (timedelta(seconds=45), "45 s"),
        (timedelta(minutes=5), "5 min"),
        (timedelta(minutes=90), "1 h 30 min"),
        (timedelta(hours=2), "2 h"),
        (timedelta(days=1, hours=2, minutes=3, seconds=4), "1 d 2 h 3 min 4 s"),
        (timedelta(days=5), "5 d"),
    ],
)
def test_humanize(value, expected):
    assert humanize(value) == expected


# ---- the Duration type in a model -----------------------------------------------------------


def test_duration_field_parses_the_compact_form():
    assert Timer(after="5m").after == timedelta(minutes=5)


def test_duration_field_serialises_to_the_compact_form_in_json():
    assert json.loads(Timer(after="5m").model_dump_json()) == {"after": "5m"}


def test_duration_field_stays_a_timedelta_in_python_mode():
    assert Timer(after="5m").model_dump() == {"after": timedelta(minutes=5)}


def test_duration_field_round_trips_through_json():
    original = Timer(after="90m")
    copy = Timer.model_validate_json(original.model_dump_json())
    assert copy == original
    assert copy.model_dump(mode="json") == {"after": "90m"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("5x", "'5x' is not a duration; write it as 90s, 5m, 2h or 3d"),
        (300, "write durations with a unit: 90s, 5m, 2h or 3d"),
        ("0m", "a duration must be longer than zero"),
    ],
)
def test_duration_field_reports_bad_values_as_validation_errors(value, message):
    with pytest.raises(ValidationError) as info:
        Timer(after=value)
    [error] = info.value.errors()
    assert error["loc"] == ("after",)
    assert error["msg"].removeprefix("Value error, ") == message


def test_duration_field_rejects_a_json_number():
    with pytest.raises(ValidationError):
        Timer.model_validate_json('{"after": 300}')


def test_duration_json_schema_is_a_compact_string():
    schema = Timer.model_json_schema()["properties"]["after"]
    assert schema["type"] == "string"
    assert schema["pattern"] == r"^\d+[smhd]$"
