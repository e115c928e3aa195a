"""A burst of declarations at once: every one answered 201, every workflow running in Temporal,
every incident in the read model and paged. (How fast is measured in ``make bench``, not here.)"""

import asyncio
from collections import Counter

import pytest
from temporalio.client import Client

from tests.e2e.stack import DevStack, write_quick_playbooks

pytestmark = pytest.mark.e2e
DECLARATIONS = 50


async def eventually(check, seconds: float = 120, what: str = "condition"):
    deadline = asyncio.get_running_loop().time() + seconds
    while (result := await check()) is not True:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} did not happen within {seconds} s: {result}")
        await asyncio.sleep(0.5)


async def test_fifty_concurrent_declarations_all_run_and_none_is_lost(tmp_path):
    # The commander is paged and then nothing falls due for an hour: only the declarations count.
    stack = DevStack(tmp_path / "data", {"CRISIS_PLAYBOOKS_DIR": str(write_quick_playbooks(tmp_path / "playbooks", 3600))})
    await asyncio.to_thread(stack.start)
    try:
        async with stack.async_client(timeout=120) as http:
            body = {"playbook": "technical_outage", "summary": "A burst of declarations.", "severity": "SEV3"}
            answers = await asyncio.gather(
                *(http.post("/incidents", json={**body, "title": f"Burst {i}"}) for i in range(DECLARATIONS))
            )
            assert Counter(answer.status_code for answer in answers) == {201: DECLARATIONS}, [
                a.text for a in answers if a.status_code != 201
            ]
            declared = {answer.json()["id"] for answer in answers}
            assert len(declared) == DECLARATIONS

            temporal = await Client.connect(stack.temporal_address)

            async def all_running():
                running = {
                    w.id async for w in temporal.list_workflows('WorkflowType="IncidentWorkflow" AND ExecutionStatus="Running"')
                }
                return running == declared or f"{len(declared & running)} running"

            async def all_in_the_read_model_and_paged():
                listed = {row["id"] for row in (await http.get("/incidents", params={"limit": 1000})).json()}
                paged = {
                    m["incident_id"] for m in (await http.get("/outbox", params={"limit": 5000})).json() if m["kind"] == "page"
                }
                return (
                    listed == declared and paged == declared
                ) or f"{len(listed & declared)} listed, {len(paged & declared)} paged"

            await eventually(all_running, what="every workflow running")
            await eventually(all_in_the_read_model_and_paged, what="every incident in the read model and paged")
    finally:
        assert await asyncio.to_thread(stack.stop) == 0
