"""Record the histories the replay test checks: ``.venv/bin/python -m tests.histories.record [name ...]``.

Run it after a workflow change that is guarded by a new ``workflow.patched`` id: first rename the
current files to ``v<N>-<name>.json`` and keep them, so both the old and the new paths stay
replayed; the recorder refuses to overwrite a history, and a change under an existing patch id is
not recorded at all (it needs a new id). List each new file in ``manifest.txt``. Each history is
recorded once its workflow has completed, one complete incident of
a built-in playbook on the time-skipping server, plus one with an escalation and overdue task, one
whose escalation reaches a level of several people (``level-at-once``), one whose escalation climbs
while the SMS provider is down and whose pages still being retried are cancelled when someone
acknowledges (``escalation-outage``), one whose answers kit is adapted (proposed, rejected,
revised, approved), one of the voice-flow paths (``voice-flow-holding``: the holding statement
sent to approval at the holding point, its author told of requested changes, the next-update
promise, a re-assessment), one of the data-breach playbook (``voice-content-data_breach``: its GDPR
clocks are watched and its kit answers are released by tasks), and one whose internal messages are
approved and emailed (``voice-content-internal``), and the run of a long incident that started from
a continue-as-new input (``continued``: a SEV1 outage through the API and worker, as
tests/long_incident.py runs it, continued once and then resolved and closed; the history is that
second run's, and the first run's beside it as ``continuing``: the run that continued as new), a
topic's detector (``listening``: ``ListeningWorkflow`` judging a surge, until
its topic is taken out of topics.yaml), and a team of 150 roles paged in waves
(``waves``: its commander acknowledges, the others never do). Names given record only those histories.
"""

import asyncio
import shutil
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from bench.playbooks import FANOUT_PLAYBOOK, person_id, write_fanout_playbooks
from channels.base import ChannelKind
from domain.actions import Acknowledge, Assessment, DecideAnswer, DecideStatement, ProposeAnswer, Reassessment, StatementDraft
from domain.catalog import TOPICS_FILE, load_catalog
from domain.severity import Severity
from tests.app_stack import open_stack
from tests.conftest import PROJECT, register_search_attributes
from tests.driver import next_step
from tests.listening.conftest import open_listening
from tests.listening.streams import ANGRY, CALM, minutes_ago, stream
from tests.long_incident import Team, runs_of
from tests.workflow.harness import SmsOutage, open_harness
from workflows.incident import RETRYING_AFTER
from workflows.incident_flow import PAGE_WAVE
from workflows.listening import nudge_topics
from workflows.listening import workflow_id as listening_id

HERE = Path(__file__).parent
# ``--prefix engine-`` records ``engine-<name>.json``: a new history beside an existing one of the same
# recorder, named after the branch that adds it, instead of renaming the existing one.
PREFIX: list[str] = [""]
ALSO_RECORDS = {"continued": ("continuing",)}  # a recorder's other histories
PLAYBOOKS = ["technical_outage", "account_compromise", "controversial_post", "customer_backlash", "misinformation"]


NAMES = [
    *PLAYBOOKS,
    "voice-content-data_breach",
    "voice-flow-holding",
    "voice-content-internal",
    "level-at-once",
    "answers",
    "escalation",
    "escalation-outage",
    "continued",
    "listening",
    "waves",
]


async def record(names: set[str]) -> None:
    if unknown := names - set(NAMES):
        raise SystemExit(f"no recorder for {sorted(unknown)}; the recorders are {NAMES}")
    files = [file for name in names or NAMES for file in (name, *ALSO_RECORDS.get(name, ()))]
    if existing := [file for file in files if (HERE / f"{PREFIX[0]}{file}.json").exists()]:
        raise SystemExit(
            f"{existing} exist: a history is never re-recorded; rename each to v<N>-<name>.json first if a new patch changed its"
            " path"
        )
    catalog = load_catalog(PROJECT / "playbooks")
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=str(Path(sys.executable).parent / "temporal-test-server"),
    )
    async with env:
        await register_search_attributes(env.client)
        with tempfile.TemporaryDirectory() as scratch:
            async with open_harness(env, catalog, Path(scratch) / "crisis.db") as harness:
                for playbook in PLAYBOOKS:
                    if names and playbook not in names:
                        continue
                    handle = await harness.start(harness.plan(playbook, incident_id=f"inc-replay-{playbook}"))
                    await harness.drive_to_closed(handle)
                    await save(handle, playbook)
                if not names or "voice-content-data_breach" in names:
                    # The sixth playbook, with its legal clocks (obligations) and answers held for their tasks.
                    handle = await harness.start(harness.plan("data_breach", incident_id="inc-replay-data_breach"))
                    await harness.drive_to_closed(handle)
                    await save(handle, "voice-content-data_breach")
                if not names or "voice-flow-holding" in names:
                    await record_voice_flow(env, harness)
                if not names or "voice-content-internal" in names:
                    # Internal messages: drafted for all staff and store staff, approved and emailed to their lists.
                    handle = await harness.start(harness.plan("technical_outage", incident_id="inc-replay-internal"))
                    await harness.drive_to_closed(handle)
                    await save(handle, "voice-content-internal")
                if not names or "level-at-once" in names:
                    await record_level_at_once(env, harness, catalog)
                if not names or "answers" in names:
                    await record_answers(harness)
                if not names or "escalation" in names:
                    await record_escalation(env, harness, catalog)
            if not names or "continued" in names:
                await record_continued(env, Path(scratch))
            if not names or "listening" in names:
                await record_listening(env, Path(scratch))
            if not names or "waves" in names:
                await record_waves(env, Path(scratch))
            if not names or "escalation-outage" in names:
                sms = SmsOutage()
                async with open_harness(env, catalog, Path(scratch) / "outage.db", {ChannelKind.SMS: sms}) as harness:
                    await record_escalation_outage(env, harness, catalog, sms)


async def record_waves(env, scratch: Path) -> None:
    """A team of more roles than a wave (``PAGE_WAVE``) paged at declaration, their escalations started
    wave by wave, and the incident run to closed."""
    roles = PAGE_WAVE + PAGE_WAVE // 2
    catalog = load_catalog(write_fanout_playbooks(PROJECT / "playbooks", scratch / "playbooks-waves", roles))
    async with open_harness(env, catalog, scratch / "waves.db") as harness:
        handle = await harness.start(harness.plan(FANOUT_PLAYBOOK, incident_id="inc-replay-waves"))
        await harness.until(handle, lambda s: sum(e["kind"] == "paged" for e in s["timeline"]) == roles)
        await harness.act(handle, "acknowledge", Acknowledge(person=person_id(0)))
        for _ in range(200):  # the rest run to closed without acknowledging: a history a tenth the size
            state = await harness.state(handle)
            if state["status"] == "closed":
                break
            step = next_step({**state, "pending": [item for item in state["pending"] if item["kind"] != "acknowledge"]})
            if step is None:
                await asyncio.sleep(0.05)
            else:
                await harness.act(handle, step.update, step.update_input())
        await save(handle, "waves")


async def record_continued(env, scratch: Path) -> None:
    """A SEV1 outage runs until its first run continues as new (about 5 hours of its 30-minute
    cadence); the continued run is resolved, publishes its resolution statement, is reviewed and
    closes. Its history starts from the continuation: the state the first run carried."""
    async with open_stack(env, scratch) as stack:
        team = await Team.declare(stack)
        start = await env.get_current_time()
        state = await team.run_until(start + timedelta(days=3), stop=lambda s: s["earlier"]["runs"] >= 1)
        assert state["earlier"]["runs"] == 1, "the incident did not continue as new"
        commander = next(item for item in state["pending"] if item["kind"] == "resolve")["people"][0]
        await team.post("resolve", {"person": commander, "summary": "Checkout is back in every region."})
        state = await team.run_until(start + timedelta(days=10), stop=lambda s: s["status"] == "closed")
        assert state["status"] == "closed" and state["earlier"]["runs"] == 1, state["earlier"]
        await save(env.client.get_workflow_handle(team.incident), "continued")
        write_history((await runs_of(env.client, team.incident))[0], "continuing")


async def record_listening(env, scratch: Path) -> None:
    """The brand topic's detector (``ListeningWorkflow``, through the API and a worker): half an hour
    of calm chatter, then a surge it judges a spike (a suggested signal); then the topic leaves
    topics.yaml, and the next nudge finds it gone and the detector's run completes."""
    playbooks = scratch / "listening-playbooks"
    shutil.copytree(PROJECT / "playbooks", playbooks)
    async with open_listening(env, scratch / "listening", sentiment_processes=0, playbooks=playbooks) as listening:
        start = minutes_ago(60)
        spike_at = start + timedelta(minutes=30)
        mentions = sorted(stream(start, 30, 8, CALM, 0) + stream(spike_at, 5, 120, ANGRY, 10_000), key=lambda m: m["created_at"])
        for offset in range(0, len(mentions), 500):
            await listening.post(mentions[offset : offset + 500])
        assert await listening.signals("suggested"), "the surge was not judged a spike"
        topics = yaml.safe_load((playbooks / TOPICS_FILE).read_text())
        topics["topics"] = [topic for topic in topics["topics"] if topic["id"] != "brand"]
        (playbooks / TOPICS_FILE).write_text(yaml.safe_dump(topics, allow_unicode=True))
        await nudge_topics(env.client, listening.settings.task_queue, ["brand"])
        await save(env.client.get_workflow_handle(listening_id("brand")), "listening")


async def record_escalation(env, harness, catalog) -> None:
    plan = harness.plan("account_compromise", severity=Severity.SEV1, incident_id="inc-replay-escalation")
    handle = await harness.start(plan)
    await harness.until(handle, lambda s: s["pending"])
    await env.sleep(plan.playbook.identify.acknowledge_within.at(Severity.SEV1) + timedelta(seconds=1))
    await harness.until(handle, lambda s: sum(e["kind"] == "paged" for e in s["timeline"]) > len(plan.playbook.identify.page))
    await harness.act(handle, "acknowledge", Acknowledge(person=catalog.roster.org_chart().members("incident_commander")[1]))
    await harness.until(handle, lambda s: s["phase"] == "assess")
    await harness.drive_to_closed(handle)
    await save(handle, "escalation")


async def record_voice_flow(env, harness) -> None:
    """The holding statement sent to approval at the holding point during the assessment, changes
    requested (its author told), the revision published with its promise, a re-assessment, and the
    update drafted the approvers' window before the promised time."""
    plan = harness.commander_only(harness.plan("misinformation", severity=Severity.SEV2, incident_id="inc-replay-voice-flow"))
    handle = await harness.start(plan)
    await harness.until(handle, lambda s: s["pending"])
    await harness.act(handle, "acknowledge", Acknowledge(person="ewa.lewandowska"))
    await env.sleep(plan.playbook.holding_point(Severity.SEV2) + timedelta(seconds=1))
    state = await harness.until(handle, lambda s: any(p["kind"] == "approval" for p in s["pending"]))
    approvals = [p for p in state["pending"] if p["kind"] == "approval"]
    await harness.act(
        handle,
        "decide_statement",
        DecideStatement(version=1, person=approvals[0]["people"][0], decision="reject", comment="Name the source."),
    )
    await harness.until_emailed(plan.id, "revision", "anna.kowalska")  # the comms lead on duty: not paged, first in the role
    await harness.act(
        handle,
        "submit_statement",
        StatementDraft(person="anna.kowalska", text="The claim is false; we name its source in our next update."),
    )
    state = await harness.until(handle, lambda s: any(p["kind"] == "approval" and p["version"] == 2 for p in s["pending"]))
    for item in [p for p in state["pending"] if p["kind"] == "approval"]:
        await harness.act(handle, "decide_statement", DecideStatement(version=2, person=item["people"][0], decision="approve"))
    state = await harness.until(handle, lambda s: s["next_update_due"] is not None)
    await harness.act(handle, "assess", Assessment(person="ewa.lewandowska", severity=Severity.SEV2))
    await harness.act(
        handle, "reassess", Reassessment(person="ewa.lewandowska", severity=Severity.SEV1, reason="National press picked it up.")
    )
    lead = plan.playbook.communicate.approval_within.at(Severity.SEV1)
    published = datetime.fromisoformat(state["statements"][1]["published_at"])
    await env.sleep(datetime.fromisoformat(state["next_update_due"]) - published - lead + timedelta(seconds=1))
    await harness.until(handle, lambda s: len(s["statements"]) == 3)
    await harness.drive_to_closed(handle)
    await save(handle, "voice-flow-holding")


async def record_answers(harness) -> None:
    handle = await harness.start(harness.plan("account_compromise", incident_id="inc-replay-answers"))
    await harness.until(handle, lambda s: s["pending"])
    await harness.act(handle, "acknowledge", Acknowledge(person="ewa.lewandowska"))
    author, approvers = "anna.kowalska", ["piotr.zielinski", "katarzyna.wisniewska"]
    await harness.act(
        handle, "propose_kit_answer", ProposeAnswer(answer_id="is_giveaway_real", person=author, text="No, it is a scam.")
    )
    await harness.act(
        handle,
        "decide_kit_answer",
        DecideAnswer(answer_id="is_giveaway_real", version=2, person=approvers[1], decision="reject", comment="Say what to do."),
    )
    await harness.act(
        handle,
        "propose_kit_answer",
        ProposeAnswer(answer_id="is_giveaway_real", person=author, text="No, it is a scam: don't click its links."),
    )
    for approver in approvers:
        await harness.act(
            handle,
            "decide_kit_answer",
            DecideAnswer(answer_id="is_giveaway_real", version=3, person=approver, decision="approve"),
        )
    await harness.until(handle, lambda s: sum(e["kind"].startswith("answer_") for e in s["timeline"]) == 6)
    await harness.drive_to_closed(handle)
    await save(handle, "answers")


async def record_escalation_outage(env, harness, catalog, sms: SmsOutage) -> None:
    """The commander's level 1 is paged while SMS is down (its email goes, its SMS is retried),
    level 2 is paged on time and acknowledges, both pages' SMS are cancelled, SMS comes back, and
    the incident runs to closed."""
    plan = harness.commander_only(
        harness.plan("account_compromise", severity=Severity.SEV1, incident_id="inc-replay-escalation-outage")
    )
    second = catalog.roster.org_chart().policy("incident_commander").levels[1].people[0]
    handle = await harness.start(plan)
    await harness.until(handle, lambda s: s["pending"])
    await env.sleep(plan.playbook.identify.acknowledge_within.at(Severity.SEV1) + timedelta(seconds=1))
    await harness.until(handle, lambda s: any(e["kind"] == "page_unanswered" for e in s["timeline"]))
    await harness.until_emailed(plan.id, "page", second)
    await harness.act(handle, "acknowledge", Acknowledge(person=second))
    await harness.until(handle, lambda s: s["phase"] == "assess")
    await env.sleep(RETRYING_AFTER + timedelta(seconds=1))
    sms.down = False
    await harness.drive_to_closed(handle)
    await save(handle, "escalation-outage")


async def record_level_at_once(env, harness, catalog) -> None:
    """The commander's chain climbs to its third level (every executive sponsor at once), one of
    them acknowledges, and the incident runs to closed."""
    plan = harness.plan("account_compromise", severity=Severity.SEV1, incident_id="inc-replay-level-at-once")
    levels = catalog.roster.org_chart().policy("incident_commander").levels
    handle = await harness.start(plan)
    wait = plan.playbook.identify.acknowledge_within.at(Severity.SEV1) + timedelta(seconds=1)
    for number in (0, 1):
        await harness.until(
            handle, lambda s, level=number: sum(e["kind"] == "paged" and e["data"]["level"] == level for e in s["timeline"]) > 0
        )
        await env.sleep(wait)
    await harness.until(
        handle, lambda s: sum(e["kind"] == "paged" and e["data"]["level"] == 2 for e in s["timeline"]) == len(levels[2].people)
    )
    await harness.act(handle, "acknowledge", Acknowledge(person=levels[2].people[-1]))
    await harness.until(handle, lambda s: s["phase"] == "assess")
    await harness.drive_to_closed(handle)
    await save(handle, "level-at-once")


async def save(handle, name: str) -> None:
    """Write the history once the workflow has completed (a history fetched earlier stops short of
    the incident's end, and the replay test then checks nothing past it). An existing file is never
    overwritten: it guards the path the code took when it was recorded."""
    await handle.result()
    write_history(await handle.fetch_history(), name)


def write_history(history, name: str) -> None:
    path = HERE / f"{PREFIX[0]}{name}.json"
    if path.exists():
        raise SystemExit(
            f"{path.name} exists: keep it (rename it to v<N>-{path.name} if the code changed under a new patch) and record"
            " beside it"
        )
    path.write_text(history.to_json())
    print(f"recorded {name}: {len(history.events)} events; list it in manifest.txt")


def names_from(argv: list[str]) -> set[str]:
    if argv[:1] == ["--prefix"]:
        PREFIX[0], argv = argv[1], argv[2:]
    return set(argv)


if __name__ == "__main__":
    asyncio.run(record(names_from(sys.argv[1:])))
