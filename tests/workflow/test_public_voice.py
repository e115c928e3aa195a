"""The public voice through the workflow: the fact sheet Update, and what statements are drafted from."""

from datetime import datetime, timedelta, timezone

import pytest
from temporalio.client import WorkflowUpdateFailedError

from domain.actions import FactSheetEdit
from domain.factsheet import FactSheetFields
from domain.listening import DetectionOrigin
from domain.variants import CHANNELS, Variant, set_sha256
from tests.workflow.test_incident_workflow import _to_communicate


async def test_the_comms_lead_edits_the_fact_sheet_through_an_update(harness):
    plan = harness.plan("technical_outage")
    handle = await harness.start(plan)
    await harness.until(handle, lambda s: s["pending"])
    edit = FactSheetEdit(
        person="anna.kowalska",
        fields=FactSheetFields(headline="Our app is not taking orders", status_page="https://status.example.com"),
    )
    receipt = await harness.act(handle, "edit_fact_sheet", edit)
    assert receipt.events == ["Public fact sheet v1 by anna.kowalska: headline, status_page"]
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await harness.act(handle, "edit_fact_sheet", edit)  # the same again changes nothing
    assert refused.value.cause.type == "Rejected.invalid"
    assert refused.value.cause.message.startswith("fields: nothing would change")
    state = await harness.state(handle)
    assert state["fact_sheet"]["headline"] == "Our app is not taking orders"
    assert [v["version"] for v in state["fact_sheet_versions"]] == [1]
    timeline = await harness.until(handle, lambda s: any(e["kind"] == "fact_sheet_edited" for e in s["timeline"]))
    assert timeline["title"] == plan.title  # the internal title is untouched


SURGE_TITLE = "Mention surge: Northwind app"
SURGE_SUMMARY = "49 mentions in 5 min (baseline 5.3 ± 2.3); 90% negative; reach 547,850. Detected by volume, negative_sentiment."


def signal_declared(harness, playbook: str = "technical_outage"):
    """An incident as a topic that declares by itself opens it: the detector's title and numbers, no fact sheet."""
    plan = harness.plan(playbook)
    detection = DetectionOrigin(
        signal_id="sig-app-20261206T101500Z",
        topic="ordering_app",
        reasons=["volume", "negative_sentiment"],
        first_mention_at=datetime(2026, 12, 6, 10, 15, tzinfo=timezone.utc),
        detected_at=datetime(2026, 12, 6, 10, 20, tzinfo=timezone.utc),
    )
    return plan.model_copy(
        update={"title": SURGE_TITLE, "summary": SURGE_SUMMARY, "detection": detection, "declared_via": "topic ordering_app"}
    )


async def test_a_signal_declared_incident_whose_fallback_fires_publishes_no_detector_text(harness):
    plan = signal_declared(harness)
    handle = await harness.start(plan)
    state = await _to_communicate(harness, handle)
    # The comms lead's draft headline is not approved: the fallback must not carry it either.
    await harness.act(
        handle,
        "edit_fact_sheet",
        FactSheetEdit(person="anna.kowalska", fields=FactSheetFields(headline="UNAPPROVED draft headline")),
    )
    await harness.env.sleep(plan.playbook.communicate.fallback_after + timedelta(seconds=1))
    state = await harness.until(handle, lambda s: any(x["fallback"] and x["status"] == "published" for x in s["statements"]))
    fallback = next(x for x in state["statements"] if x["fallback"])
    public = [m for m in await harness.outbox(plan.id) if m.channel == "public"]
    assert len(public) == 1
    published = " ".join([public[0].subject, public[0].body] + [f"{v['title'] or ''} {v['text']}" for v in fallback["variants"]])
    for internal in ("Mention surge", "49 mentions", "5.3", "547,850", "90%", "negative", "volume", "UNAPPROVED"):
        assert internal not in published, internal
    assert public[0].body == next(v["text"] for v in fallback["variants"] if v["channel"] == "status_page")
    assert public[0].subject == "Investigating: service disruption"  # the status page's title, never the incident's
    assert all(v["length"] <= v["limit"] for v in fallback["variants"])
    assert fallback["sha256"] == set_sha256([Variant.model_validate(v) for v in fallback["variants"]])


async def test_statements_are_drafted_from_the_fact_sheet_as_channel_variants(harness):
    plan = signal_declared(harness)
    handle = await harness.start(plan)
    await harness.until(handle, lambda s: s["pending"])
    sheet = FactSheetFields(
        headline="Ordering in our app is down",
        what_to_do="You can order at the counter.",
        status_page="https://status.northwind.example.com",
    )
    await harness.act(handle, "edit_fact_sheet", FactSheetEdit(person="anna.kowalska", fields=sheet))
    state = await _to_communicate(harness, handle)
    holding = state["statements"][-1]
    assert [v["channel"] for v in holding["variants"]] == [c.value for c in CHANNELS]
    assert {"channel", "text", "length", "limit"} <= set(holding["variants"][0])
    x = next(v for v in holding["variants"] if v["channel"] == "x")
    assert x["text"].startswith("Ordering in our app is down.") and x["limit"] == 280 and x["length"] <= 280
    assert (
        next(v["title"] for v in holding["variants"] if v["channel"] == "email") == "Investigating: Ordering in our app is down"
    )
    everything = " ".join(v["text"] for v in holding["variants"])
    assert SURGE_TITLE not in everything and "547,850" not in everything
    assert holding["changed"] == ["headline", "what_to_do", "status_page"] and holding["fact_sheet_version"] == 1
