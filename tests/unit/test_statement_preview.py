"""The statement editor's preview (#18 item 1): every channel's variant of a draft with its count
and limit, built as the draft's validator builds it, so what the preview flags is what is refused."""

import pytest

from domain.actions import StatementDraft, StatementPreview
from domain.incident import Rejected
from domain.preview import preview_statement
from domain.variants import CHANNELS
from tests.unit.conftest import ANNA, Driver


@pytest.fixture
def communicating(drive: Driver) -> Driver:
    return drive.to_communicate()


def by_channel(preview) -> dict:
    return {item.channel.value: item for item in preview.variants}


def test_every_channel_is_previewed_with_its_count_its_limit_and_the_field_it_comes_from(communicating: Driver):
    preview = preview_statement(communicating.incident, StatementPreview(text="We are fixing it. 👍🏽", title="Login outage"))
    variants = by_channel(preview)
    assert list(variants) == [channel.value for channel in CHANNELS]
    assert (variants["x"].length, variants["x"].limit, variants["x"].unit) == (
        20,
        280,
        "weighted characters",
    )  # the emoji weighs 2
    assert (variants["bluesky"].length, variants["bluesky"].unit) == (19, "graphemes")  # the emoji with its skin tone is one
    assert (variants["sms"].length, variants["sms"].limit, variants["sms"].unit) == (1, 5, "segments")
    assert {item.field for item in preview.variants} == {"text"}  # no short form: the short channels read the text
    assert (variants["email"].title, variants["email"].title_limit, variants["x"].title) == ("Login outage", 120, None)
    assert variants["x"].label == "X" and variants["status_page"].label == "status page"
    assert preview.problems == [] and all(item.problems == [] for item in preview.variants)


def test_the_short_form_feeds_the_short_channels_and_the_text_the_long_ones(communicating: Driver):
    variants = by_channel(preview_statement(communicating.incident, StatementPreview(text="Long. " * 100, short="Short.")))
    assert (variants["x"].text, variants["x"].field, variants["x"].length) == ("Short.", "short", 6)
    assert (variants["linkedin"].field, variants["linkedin"].length) == ("text", len(("Long. " * 100).strip()))


def test_an_over_limit_variant_is_flagged_in_the_words_the_draft_is_refused_with(communicating: Driver):
    text = "Our app is down. " * 20
    preview = preview_statement(communicating.incident, StatementPreview(text=text, title="Outage"))
    x = by_channel(preview)["x"]
    assert x.problems == ["x: 339 weighted characters, over the limit of 280"]
    assert not by_channel(preview)["linkedin"].problems
    with pytest.raises(Rejected) as refused:
        communicating.incident.check_statement_draft(StatementDraft(person=ANNA, text=text, title="Outage"))
    assert all(problem in refused.value.message for problem in preview.problems)


def test_a_preview_changes_nothing(communicating: Driver):
    before = communicating.state.model_dump()
    preview_statement(communicating.incident, StatementPreview(text="Anything"))
    assert communicating.state.model_dump() == before
