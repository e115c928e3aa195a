"""Recorded histories must replay on today's workflow code: a non-deterministic change fails here
before it can break a running incident. Record new ones with ``python -m tests.histories.record``
only together with a new ``workflow.patched`` id for the old behaviour (never under an existing one),
and list them in tests/histories/manifest.txt."""

import base64
import json
from pathlib import Path

import pytest
from pydantic import ValidationError
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from domain.playbook import Playbook
from services.workflow_runner import workflow_runner
from workflows.incident import IncidentWorkflow
from workflows.listening import ListeningWorkflow

HISTORIES = Path(__file__).parent.parent / "histories"
COMPLETED = "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED"
CONTINUED_AS_NEW = "EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW"  # a long incident's run ends so, complete


def manifest() -> dict[str, bool]:
    """Each listed history → whether it is marked truncated."""
    listed = {}
    for line in (HISTORIES / "manifest.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, *marks = line.split()
            assert marks in ([], ["truncated"]), f"manifest.txt: {line!r}"
            listed[name] = marks == ["truncated"]
    return listed


LISTED = manifest()


def replay(name: str, history_json: str):
    replayer = Replayer(
        workflows=[IncidentWorkflow, ListeningWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(pydantic_data_converter),
    )
    return replayer.replay_workflow(WorkflowHistory.from_json(name, history_json))


def test_the_manifest_lists_exactly_the_recorded_histories():
    recorded = {path.name for path in HISTORIES.glob("*.json")}
    assert not (unlisted := sorted(recorded - set(LISTED))), f"list these in tests/histories/manifest.txt: {unlisted}"
    assert not (missing := sorted(set(LISTED) - recorded)), f"listed but not recorded (deleted?): {missing}"


@pytest.mark.parametrize("name", sorted(LISTED), ids=[Path(name).stem for name in sorted(LISTED)])
async def test_history_replays(name):
    text = (HISTORIES / name).read_text()
    ends_with = json.loads(text)["events"][-1]["eventType"]
    if not LISTED[name]:
        assert ends_with in (COMPLETED, CONTINUED_AS_NEW), (
            f"{name} stops at {ends_with}: record histories once their workflow has completed"
        )
    await replay(Path(name).stem, text)


def test_a_run_that_started_from_a_continue_as_new_input_is_replayed():
    """A long incident's later runs start from the state the run before carried (``continued``):
    that path of ``__init__`` and ``_resume`` is replayed too, not only runs that were declared."""
    continued = []
    for name in LISTED:
        started = json.loads((HISTORIES / name).read_text())["events"][0]["workflowExecutionStartedEventAttributes"]
        plan = json.loads(base64.b64decode(started["input"]["payloads"][0]["data"]))
        if started.get("continuedExecutionRunId") and plan.get("continued"):
            continued.append(name)
    assert continued, "record one: python -m tests.histories.record --prefix <branch>- continued"


def with_retired_field(history: dict) -> tuple[dict, dict]:
    """The history with its input's playbook carrying fields this code does not know, as a history
    recorded before an optional playbook field was removed would; and that playbook."""
    payload = history["events"][0]["workflowExecutionStartedEventAttributes"]["input"]["payloads"][0]
    plan = json.loads(base64.b64decode(payload["data"]))
    plan["playbook"]["retired_option"] = "kept by an older schema"
    plan["playbook"]["communicate"]["retired_cadence_note"] = "hourly"
    plan["playbook"]["identify"]["acknowledge_within"]["SEV5"] = "1h"
    payload["data"] = base64.b64encode(json.dumps(plan).encode()).decode()
    return history, plan["playbook"]


async def test_a_history_whose_input_has_a_playbook_field_the_model_no_longer_has_still_replays():
    history, playbook = with_retired_field(json.loads((HISTORIES / "controversial_post.json").read_text()))
    with pytest.raises(ValidationError) as refused:
        Playbook.model_validate(playbook)  # an author writing it today is told which field is unknown
    assert {error["loc"][-1] for error in refused.value.errors() if error["type"] == "extra_forbidden"} == {
        "retired_option",
        "retired_cadence_note",
        "SEV5",
    }
    await replay("controversial_post-with-retired-fields", json.dumps(history))
