"""Record the review-phase history the replay test checks: ``.venv/bin/python -m tests.histories.record_review [--prefix p]``.

One drill of technical_outage with named participants, driven to its review; feedback by link
(``submit_feedback``), the half-way reminder, then the review. It covers the ``feedback-links``
branch of ``IncidentWorkflow._review`` (the older histories cover the branch before it).
"""

import asyncio
import sys
import tempfile
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain.actions import FeedbackSubmission
from domain.catalog import load_catalog
from domain.drills import DrillRequest, drill_plan
from tests.conftest import PROJECT, register_search_attributes
from tests.histories.record import names_from, save
from tests.workflow.harness import open_harness
from tests.workflow.test_review import drive_to_review


async def record() -> None:
    catalog = load_catalog(PROJECT / "playbooks")
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=str(Path(sys.executable).parent / "temporal-test-server"),
    )
    async with env:
        await register_search_attributes(env.client)
        with tempfile.TemporaryDirectory() as scratch:
            async with open_harness(env, catalog, Path(scratch) / "crisis.db") as harness:
                request = DrillRequest(
                    playbook="technical_outage", participants=["ewa.lewandowska", "anna.kowalska", "jakub.mazur"]
                )
                plan = drill_plan(catalog, request, "inc-replay-review")
                handle = await harness.start(plan)
                state = await drive_to_review(harness, handle)
                await harness.act(
                    handle,
                    "submit_feedback",
                    FeedbackSubmission(person=state["feedback_requested"][0], rating=3, went_badly="Slow approval"),
                )
                await env.sleep(plan.playbook.review.due_after / 2)
                await harness.until(
                    handle, lambda s: any(e["kind"] == "feedback_requested" and e["data"]["reminder"] for e in s["timeline"])
                )
                await harness.drive_to_closed(handle)
                await save(handle, "review-feedback")


if __name__ == "__main__":
    names_from(sys.argv[1:])  # only ``--prefix <p>``
    asyncio.run(record())
