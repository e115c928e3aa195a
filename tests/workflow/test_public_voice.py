"""The public voice through the workflow: the fact sheet Update, and what statements are drafted from."""

import pytest
from temporalio.client import WorkflowUpdateFailedError

from domain.actions import FactSheetEdit
from domain.factsheet import FactSheetFields


async def test_the_comms_lead_edits_the_fact_sheet_through_an_update(harness):
    plan = harness.plan("technical_outage")
    handle = await harness.start(plan)
    await harness.until(handle, lambda s: s["pending"])
    edit = FactSheetEdit(person="anna.kowalska", fields=FactSheetFields(headline="Our app is not taking orders", status_page="https://status.example.com"))
    receipt = await harness.act(handle, "edit_fact_sheet", edit)
    assert receipt["events"] == ["Public fact sheet v1 by anna.kowalska: headline, status_page"]
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await harness.act(handle, "edit_fact_sheet", edit)  # the same again changes nothing
    assert refused.value.cause.type == "Rejected.invalid"
    assert refused.value.cause.message.startswith("fields: nothing would change")
    state = await harness.state(handle)
    assert state["fact_sheet"]["headline"] == "Our app is not taking orders"
    assert [v["version"] for v in state["fact_sheet_versions"]] == [1]
    timeline = await harness.until(handle, lambda s: any(e["kind"] == "fact_sheet_edited" for e in s["timeline"]))
    assert timeline["title"] == plan.title  # the internal title is untouched
