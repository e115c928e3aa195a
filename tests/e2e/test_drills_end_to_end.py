"""Drills on the real dev server, through the `crisis drill` commands: a drill now, reaching only
its participants, and recurring drills as Temporal Schedules (schedule, list, trigger, unschedule)."""

import asyncio
import json
import subprocess
from datetime import timedelta

import httpx
import pytest

from tests.e2e.stack import BIN
from workflows.search_attributes import CRISIS_DRILL

pytestmark = pytest.mark.e2e
PARTICIPANTS = ["ewa.lewandowska", "anna.kowalska"]


def crisis(stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "crisis"), *args, "--url", stack.url],
        capture_output=True,
        text=True,
        timeout=60,
        env={**stack.env, "COLUMNS": "250"},
    )


async def until(probe, attempts: int = 100):
    for _ in range(attempts):
        if found := await probe():
            return found
        await asyncio.sleep(0.1)
    raise AssertionError("condition never held")


async def test_crisis_drill_pages_only_the_participants_and_marks_everything(stack, temporal):
    ran = crisis(stack, "drill", "customer_backlash", "--participants", ",".join(PARTICIPANTS))
    assert ran.returncode == 0, ran.stderr
    drill = json.loads(ran.stdout)
    assert drill["participants"] == PARTICIPANTS and drill["report"] == f"/incidents/{drill['id']}/report"
    async with stack.async_client() as client:
        state = (await client.get(f"/incidents/{drill['id']}")).json()
        assert state["drill"] and state["participants"] == PARTICIPANTS

        async def pages():
            messages = (await client.get("/outbox", params={"incident": drill["id"]})).json()
            paged = {m["person_id"] for m in messages if m["kind"] == "page"}
            return messages if paged == set(PARTICIPANTS) else None

        messages = await until(pages)
        assert {m["person_id"] for m in messages if m["person_id"]} <= set(PARTICIPANTS)
        assert all(m["subject"].startswith("[DRILL]") and m["drill"] for m in messages if m["channel"] != "public")
        records = (await client.get("/drills")).json()
        assert any(r["id"] == drill["id"] and r["playbook"] == "customer_backlash" for r in records)
    description = await temporal.get_workflow_handle(drill["id"]).describe()
    assert description.typed_search_attributes.get(CRISIS_DRILL) is True


@pytest.mark.parametrize(
    "body, field",
    [
        ({"playbook": "nope"}, "playbook: unknown playbook 'nope'"),
        ({"playbook": "customer_backlash", "participants": ["ghost"]}, "participants: not in the team roster: ghost"),
        (
            {"playbook": "customer_backlash", "participants": ["anna.kowalska"]},
            "participants: a drill needs someone who holds incident_commander",
        ),
        ({"playbook": "customer_backlash", "colour": "red"}, "colour"),
    ],
)
async def test_a_drill_that_cannot_run_is_refused_with_the_field(stack, body, field):
    async with stack.async_client() as client:
        refused = await client.post("/drills", json=body)
        assert refused.status_code == 422 and field in refused.text


async def test_recurring_drills_schedule_list_trigger_and_unschedule(stack, temporal):
    too_often = crisis(stack, "drill", "schedule", "technical_outage", "--every", "1h")
    assert too_often.returncode == 1 and "every: drills recur at most daily" in too_often.stderr
    too_rare = crisis(stack, "drill", "schedule", "technical_outage", "--every", "52308127061m")
    assert too_rare.returncode == 1 and "longer than 5 years" in too_rare.stderr
    made = crisis(stack, "drill", "schedule", "technical_outage", "--every", "90d", "--participants", "ewa.lewandowska")
    assert made.returncode == 0, made.stderr
    schedule_id = made.stdout.split()[1].rstrip(":")
    assert schedule_id.startswith("drill-technical_outage-") and "every 90d" in made.stdout

    description = await temporal.get_schedule_handle(schedule_id).describe()
    assert description.schedule.spec.intervals[0].every == timedelta(days=90)
    assert description.schedule.action.workflow == "ScheduledDrillWorkflow"

    async def listed():
        shown = crisis(stack, "drill", "schedules")
        return shown.stdout if schedule_id in shown.stdout else None

    table = await until(listed, attempts=50)
    assert "technical_outage" in table and "90d" in table and "ewa.lewandowska" in table

    await temporal.get_schedule_handle(schedule_id).trigger()  # what the schedule does every 90 days, now
    async with stack.async_client() as client:

        async def started():
            schedules = (await client.get("/drills/schedules")).json()
            runs = next((s["recent_runs"] for s in schedules if s["id"] == schedule_id), [])
            return runs or None

        runs = await until(started)
        incident_id = await temporal.get_workflow_handle(runs[0]).result()
        state = await until(lambda: _state(client, incident_id))
        assert state["drill"] and state["participants"] == ["ewa.lewandowska"] and state["playbook"] == "technical_outage"
        declared = next(event for event in state["timeline"] if event["kind"] == "declared")
        assert declared["via"] == "schedule, API key bootstrap"  # who made the schedule declares each run

    gone = crisis(stack, "drill", "unschedule", schedule_id)
    assert gone.returncode == 0 and f"unscheduled {schedule_id}" in gone.stdout
    again = crisis(stack, "drill", "unschedule", schedule_id)
    assert again.returncode == 1 and "does not exist" in again.stderr

    async def unlisted():
        shown = crisis(stack, "drill", "schedules")
        return shown.returncode == 0 and schedule_id not in shown.stdout

    await until(unlisted, attempts=50)


async def _state(client: httpx.AsyncClient, incident_id: str) -> dict | None:
    response = await client.get(f"/incidents/{incident_id}")
    return response.json() if response.status_code == 200 else None
