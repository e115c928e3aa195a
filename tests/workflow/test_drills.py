"""A drill on the time-skipping server, started the way a Temporal Schedule starts it, run to its
report: only the participants are reached, every message says [DRILL], nothing leaves the outbox."""

import uuid
from datetime import datetime, timezone

import pytest
from temporalio.client import WorkflowFailureError

from api.review import Report
from domain.drills import DrillRequest
from domain.metrics import state_from_view
from workflows.drill import ScheduledDrillWorkflow
from workflows.search_attributes import CRISIS_DRILL

PARTICIPANTS = ["ewa.lewandowska", "anna.kowalska"]


async def test_a_scheduled_drill_runs_to_its_report_reaching_only_its_participants(harness):
    request = DrillRequest(playbook="technical_outage", participants=PARTICIPANTS)
    incident_id = await harness.env.client.execute_workflow(
        ScheduledDrillWorkflow.run, request, id=f"drill-run-{uuid.uuid4().hex[:8]}", task_queue=harness.task_queue
    )
    handle = harness.env.client.get_workflow_handle(incident_id)
    final = await harness.drive_to_closed(handle)
    await handle.result()
    assert final["drill"] and final["participants"] == PARTICIPANTS
    assert (await handle.describe()).typed_search_attributes.get(CRISIS_DRILL) is True

    outbox = await harness.outbox(incident_id)
    to_people = [m for m in outbox if m.person_id is not None]
    assert to_people and {m.person_id for m in to_people} <= set(PARTICIPANTS)
    assert {m.person_id for m in to_people if m.kind == "page"} == set(PARTICIPANTS)
    assert all(m.subject.startswith("[DRILL]") and m.drill for m in outbox if m.channel != "public")
    assert all(m.drill for m in outbox)
    published = [s for s in final["statements"] if s["status"] == "published"]
    assert published and all(s["text"].startswith("[DRILL]") for s in published)
    assert all({r["channel"] for r in s["receipts"]} == {"outbox"} for s in published)
    paged = {e["data"]["person"] for e in final["timeline"] if e["kind"] == "paged"}
    assert paged <= set(PARTICIPANTS)

    report = Report(state_from_view(final), "incident_commander", datetime.now(timezone.utc))
    counted = report.metrics.met + report.metrics.missed
    assert counted > 0 and report.metrics.score == report.metrics.met / counted
    markdown = report.markdown()
    assert markdown.startswith("# Post-incident report: Drill: Technical outage [DRILL]")
    assert f"- Score: {report.metrics.met} of {counted} deadlines met" in markdown


async def test_a_scheduled_drill_of_an_unknown_playbook_fails_with_the_reason(harness):
    with pytest.raises(WorkflowFailureError) as failed:
        await harness.env.client.execute_workflow(
            ScheduledDrillWorkflow.run,
            DrillRequest(playbook="gone"),
            id=f"drill-run-{uuid.uuid4().hex[:8]}",
            task_queue=harness.task_queue,
        )
    assert "unknown playbook 'gone'" in str(failed.value.cause.cause)
