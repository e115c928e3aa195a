"""Re-record the histories the replay test checks: ``.venv/bin/python -m tests.histories.record``.

Run it after a workflow change that is guarded by ``workflow.patched``: first rename the current
files to ``v<N>-<name>.json`` and keep them, so both the old and the new paths stay replayed. Each history is one complete incident of
a built-in playbook on the time-skipping server, plus one with an escalation and overdue task, and
one whose answers kit is adapted (proposed, rejected, revised, approved). Name some of them
(``… record answers``) to record only those.
"""

import asyncio
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain.actions import Acknowledge, AnswerDraft, StatementDecision
from domain.catalog import load_catalog
from domain.severity import Severity
from tests.conftest import PROJECT, register_search_attributes
from tests.workflow.harness import open_harness

HERE = Path(__file__).parent
PLAYBOOKS = ["technical_outage", "account_compromise", "controversial_post", "customer_backlash", "misinformation"]


async def record(only: set[str]) -> None:
    catalog = load_catalog(PROJECT / "playbooks")
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=str(Path(sys.executable).parent / "temporal-test-server")
    )
    async with env:
        await register_search_attributes(env.client)
        with tempfile.TemporaryDirectory() as scratch:
            async with open_harness(env, catalog, Path(scratch) / "crisis.db") as harness:
                for playbook in [p for p in PLAYBOOKS if not only or p in only]:
                    handle = await harness.start(harness.plan(playbook, incident_id=f"inc-replay-{playbook}"))
                    await harness.drive_to_closed(handle)
                    await save(handle, playbook)
                if not only or "answers" in only:
                    await record_answers(harness)
                if only and "escalation" not in only:
                    return
                plan = harness.plan("account_compromise", severity=Severity.SEV1, incident_id="inc-replay-escalation")
                handle = await harness.start(plan)
                await harness.until(handle, lambda s: s["pending"])
                await env.sleep(plan.playbook.identify.acknowledge_within.at(Severity.SEV1) + timedelta(seconds=1))
                await harness.until(handle, lambda s: sum(e["kind"] == "paged" for e in s["timeline"]) > len(plan.playbook.identify.page))
                await harness.act(handle, "acknowledge", Acknowledge(person=catalog.roster.org_chart().members("incident_commander")[1]))
                await harness.until(handle, lambda s: s["phase"] == "assess")
                await harness.drive_to_closed(handle)
                await save(handle, "escalation")


async def record_answers(harness) -> None:
    handle = await harness.start(harness.plan("account_compromise", incident_id="inc-replay-answers"))
    await harness.until(handle, lambda s: s["pending"])
    await harness.act(handle, "acknowledge", Acknowledge(person="ewa.lewandowska"))
    author, approvers = "anna.kowalska", ["piotr.zielinski", "katarzyna.wisniewska"]
    await harness.act(handle, "propose_answer", "is_giveaway_real", AnswerDraft(person=author, text="No, it is a scam."))
    await harness.act(handle, "decide_answer", "is_giveaway_real", 2, StatementDecision(person=approvers[1], decision="reject", comment="Say what to do."))
    await harness.act(handle, "propose_answer", "is_giveaway_real", AnswerDraft(person=author, text="No, it is a scam: don't click its links."))
    for approver in approvers:
        await harness.act(handle, "decide_answer", "is_giveaway_real", 3, StatementDecision(person=approver, decision="approve"))
    await harness.until(handle, lambda s: sum(e["kind"].startswith("answer_") for e in s["timeline"]) == 6)
    await harness.drive_to_closed(handle)
    await save(handle, "answers")


async def save(handle, name: str) -> None:
    history = await handle.fetch_history()
    (HERE / f"{name}.json").write_text(history.to_json())
    print(f"recorded {name}: {len(history.events)} events")


if __name__ == "__main__":
    asyncio.run(record(set(sys.argv[1:])))
