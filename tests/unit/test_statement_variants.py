"""Statements as channel variants on the incident: drafts refused over a limit, approval over the
whole set, what changed since the last published statement, and a repeat flagged before approval."""

import pytest

from domain.actions import FactSheetEdit, StatementDecision, StatementDraft, Verdict
from domain.factsheet import FactSheetFields
from domain.incident import SYSTEM_AUTHOR, Incident, Receipt, Rejected, StatementStatus
from domain.statements import StatementContext, StatementKind, long_text, render_variants
from domain.variants import CHANNELS, Channel, Form, build_variants, find, set_sha256, variant_sha256
from tests.unit.conftest import ANNA, KASIA, PIOTR, T0, Driver, make_plan

FORMS = {
    Form.TITLE: "Our Instagram account was taken over",
    Form.SHORT: "Don't click links from our Instagram account.",
    Form.LONG: "Our Instagram account was taken over.\n\nDon't click its links.",
}


def system_draft(drive: Driver, forms: dict = FORMS, kind: StatementKind | None = None):
    variants = build_variants(forms)
    return drive.incident.add_statement(
        kind or drive.incident.next_statement_kind(), long_text(variants), SYSTEM_AUTHOR, drive.now, variants=variants
    )


def edit(drive: Driver, **fields) -> None:
    action = FactSheetEdit(person=ANNA, fields=FactSheetFields(**fields))
    drive.incident.check_fact_sheet_edit(action)
    drive.incident.edit_fact_sheet(action, drive.now)


def refusal(drive: Driver, draft: StatementDraft) -> Rejected:
    with pytest.raises(Rejected) as info:
        drive.incident.check_statement_draft(draft)
    return info.value


@pytest.fixture
def communicating(drive: Driver) -> Driver:
    return drive.to_communicate()


def test_a_persons_draft_becomes_one_variant_per_channel(communicating: Driver):
    draft = communicating.incident.draft_statement(
        StatementDraft(person=ANNA, text="Long text.\n\nSecond paragraph.", short="Short text.", title="A title"),
        communicating.now,
    )
    assert [v.channel for v in draft.variants] == list(CHANNELS)
    assert find(draft.variants, "x").text == "Short text." and find(draft.variants, "sms").text == "Short text."
    assert find(draft.variants, "linkedin").text == draft.text == "Long text.\n\nSecond paragraph."
    assert (find(draft.variants, "email").title, find(draft.variants, "x").title) == ("A title", None)


def test_a_draft_without_a_title_takes_the_headline_else_its_first_line(communicating: Driver):
    first = communicating.incident.draft_statement(StatementDraft(person=ANNA, text="First line\nmore"), communicating.now)
    assert find(first.variants, "status_page").title == "First line"
    edit(communicating, headline="Our app is down")
    second = communicating.incident.draft_statement(StatementDraft(person=ANNA, text="Other"), communicating.now)
    assert find(second.variants, "status_page").title == "First line"  # the last statement's title comes first
    assert (
        find(communicating.incident.draft_variants(StatementDraft(person=ANNA, text="x", title="Given")), "email").title
        == "Given"
    )


def test_a_draft_over_a_channel_limit_is_refused_naming_the_channel_and_the_numbers(communicating: Driver):
    refused = refusal(communicating, StatementDraft(person=ANNA, text="Our app is down. " * 20, title="Outage"))
    assert refused.kind == "invalid"
    assert refused.message.startswith(
        "variants: x: 339 weighted characters, over the limit of 280; bluesky: 339 graphemes, over the limit of 300;"
    )
    communicating.incident.check_statement_draft(
        StatementDraft(person=ANNA, text="Our app is down. " * 20, short="Our app is down.", title="Outage")
    )


def test_approval_covers_the_whole_set_with_one_hash(communicating: Driver):
    statement = system_draft(communicating)
    communicating.approve_all(statement.version)
    assert statement.status is StatementStatus.APPROVED
    assert statement.sha256 == set_sha256(statement.variants) != set_sha256(build_variants({**FORMS, Form.SHORT: "Other."}))


def test_a_set_with_a_variant_over_its_limit_cannot_be_approved_only_sent_back(communicating: Driver):
    statement = system_draft(communicating, {**FORMS, Form.SHORT: "界" * 141})
    event = communicating.state.timeline[-1]
    assert (event.kind, event.message) == (
        "statement_over_limit",
        f"Statement v{statement.version} cannot be approved as it is: x: 282 weighted characters, over the limit of 280",
    )
    with pytest.raises(Rejected) as info:
        communicating.incident.check_decision(statement.version, StatementDecision(person=PIOTR, decision=Verdict.APPROVE))
    assert info.value.kind == "invalid" and "x: 282 weighted characters, over the limit of 280" in info.value.message
    communicating.decide(statement.version, PIOTR, Verdict.REJECT, "Shorter, please")


def test_each_target_must_have_sent_its_approved_variant(communicating: Driver):
    statement = system_draft(communicating)
    communicating.approve_all(statement.version)
    status_page = find(statement.variants, "status_page")
    receipts = [
        Receipt(channel="outbox", sha256=variant_sha256(status_page), variant="status_page"),
        Receipt(channel="x_account", sha256=variant_sha256(find(statement.variants, "linkedin")), variant="x"),  # the wrong text
    ]
    communicating.incident.mark_published(statement.version, communicating.now, receipts)
    assert statement.mismatch
    assert communicating.state.timeline[-2].message.endswith("x_account received text that differs from the approved version")


def test_an_update_knows_what_changed_since_the_last_published_statement(communicating: Driver):
    edit(communicating, headline="Our app is down", status_page="https://status.example.com")
    holding = system_draft(communicating)
    assert holding.changed == ["headline", "status_page"] and holding.fact_sheet_version == 1
    communicating.approve_all(holding.version)
    communicating.publish(holding.version)
    assert communicating.incident.changed_since_published() == []
    edit(communicating, what_we_are_doing="We have found the fault and are fixing it.")
    assert communicating.incident.changed_since_published() == ["what_we_are_doing"]
    update = system_draft(communicating, {**FORMS, Form.LONG: "Something new."})
    assert (update.changed, update.repeats) == (["what_we_are_doing"], None)


def test_an_update_from_an_unchanged_fact_sheet_is_flagged_before_approval(communicating: Driver):
    holding = system_draft(communicating)
    communicating.approve_all(holding.version)
    communicating.publish(holding.version)
    update = system_draft(communicating, {**FORMS, Form.LONG: "Same facts, new time."})
    assert update.repeats == holding.version
    assert update.repeats_why.startswith(f"the public fact sheet has not changed since v{holding.version}")
    event = communicating.state.timeline[-1]
    assert event.kind == "statement_repeats" and event.data["repeats"] == holding.version
    assert update.for_approval().startswith(f"NOTE: nothing new since v{holding.version} (published)")
    assert update.status is StatementStatus.PENDING_APPROVAL  # flagged, not refused: the approvers decide


def test_a_persons_draft_identical_to_the_published_one_is_flagged(communicating: Driver):
    draft = StatementDraft(person=ANNA, text="Long.", short="Short.", title="Title")
    first = communicating.incident.draft_statement(draft, communicating.now)
    communicating.approve_all(first.version)
    communicating.publish(first.version)
    again = communicating.incident.draft_statement(draft, communicating.now)
    assert (again.repeats, again.repeats_why) == (first.version, "the same text on every channel")
    different = communicating.incident.draft_statement(
        StatementDraft(person=ANNA, text="Long, and new.", short="Short.", title="Title"), communicating.now
    )
    assert different.repeats is None


def test_approvers_read_every_distinct_text_once(communicating: Driver):
    statement = system_draft(communicating)
    text = statement.for_approval()
    assert text.count(FORMS[Form.SHORT]) == 1 and "— Title (status page, email) —" in text and "X 45/280" in text


def test_histories_from_before_the_public_voice_keep_plain_text_statements(catalog):
    incident = Incident(make_plan(catalog), T0, public_voice=False)
    drive = Driver.__new__(Driver)
    drive.now, drive.incident = T0, incident
    drive.to_communicate()
    draft = incident.draft_statement(StatementDraft(person=ANNA, text="x" * 400), T0)  # no channel limits then
    assert draft.variants == [] and draft.repeats is None
    for person in (PIOTR, KASIA):
        drive.decide(draft.version, person)
    assert draft.sha256 == __import__("hashlib").sha256(("x" * 400).encode()).hexdigest()


def test_a_rendered_template_fills_every_channel_within_its_limit(catalog):
    source = catalog.templates[("technical_outage", "pl")]
    context = StatementContext(kind=StatementKind.HOLDING, organization="Northwind Coffee", next_update="do godz. 14:30 UTC")
    variants = render_variants(source, context, [Channel.X, Channel.SMS, Channel.STATUS_PAGE])
    assert [v.channel for v in variants] == [Channel.X, Channel.SMS, Channel.STATUS_PAGE]
    assert all(v.fits for v in variants)
    assert find(variants, "status_page").title == "Analizujemy problem: utrudnienia w działaniu usług"
