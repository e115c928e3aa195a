"""A declaration schedules the team's pages before the work beside them (``lean-first-pages-first``):
the stakeholders' briefing, the schedulers' pause, the projection. The worker starts the first
activities of a workflow task first and its database serves their writes in that order, so a briefing
scheduled first held every page back behind its own sends (bench/findings.md, "Declare → first page
against the floor")."""

import asyncio

from temporalio.api.enums.v1 import EventType


async def test_the_first_workflow_task_schedules_every_page_before_anything_else(harness):
    plan = harness.plan("technical_outage")
    assert plan.playbook.stakeholders  # it briefs stakeholders at declaration, beside the pages
    handle = await harness.start(plan)
    for _ in range(200):
        if [m for m in await harness.outbox(plan.id) if m.kind == "page"]:
            break
        await asyncio.sleep(0.05)
    first_task: list[str] = []
    completed = 0
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            completed += 1
            if completed > 1:
                break
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            first_task.append(event.activity_task_scheduled_event_attributes.activity_id)
    pages = [activity for activity in first_task if activity.startswith("page.")]
    assert len(pages) == len(plan.playbook.identify.page)
    assert first_task[: len(pages)] == pages, first_task
    assert any(activity.startswith("brief.declared") for activity in first_task), first_task  # still in the same task
