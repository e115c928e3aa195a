"""The workflow runner (services/workflow_runner.py) answers the SDK's per-payload context questions
without entering the sandbox when the data converter takes no context, and leaves a converter that
takes one to the sandbox's answers; with either, a cached run keeps no activation it is done with."""

import asyncio
import dataclasses
import gc
import uuid
from collections.abc import Sequence
from datetime import timedelta

from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.bridge.proto.workflow_activation import InitializeWorkflow, WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import PayloadCodec, SerializationContext, WithSerializationContext, WorkflowSerializationContext
from temporalio.worker import Replayer, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox._runner import _Instance

from services.workflow_runner import ContextFreeSandboxedRunner, LeanSandboxedRunner, takes_context, workflow_runner


class Greeting(BaseModel):
    name: str
    times: int


@activity.defn(name="test_runner_echo")
async def echo(greeting: Greeting) -> Greeting:
    return Greeting(name=greeting.name.upper(), times=greeting.times + 1)


@workflow.defn(name="TestRunnerWorkflow", sandboxed=True)
class EchoWorkflow:
    @workflow.run
    async def run(self, greeting: Greeting) -> Greeting:
        return await workflow.execute_activity(echo, greeting, start_to_close_timeout=timedelta(seconds=10))


@dataclasses.dataclass(frozen=True)
class RecordingCodec(PayloadCodec, WithSerializationContext):
    """A codec that takes context, as one that encrypts per workflow would: each context gives a codec
    of its own, and the workflows of those it was given are noted."""

    workflows: list[str] = dataclasses.field(default_factory=list)
    context: SerializationContext | None = None

    def with_context(self, context: SerializationContext) -> "RecordingCodec":
        if isinstance(context, WorkflowSerializationContext):
            self.workflows.append(context.workflow_id)
        return dataclasses.replace(self, context=context)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)


def count_sandbox_context_calls(monkeypatch) -> list[int]:
    calls = [0]
    asked = _Instance.get_serialization_context

    def counting(self, command_info):
        calls[0] += 1
        return asked(self, command_info)

    monkeypatch.setattr(_Instance, "get_serialization_context", counting)
    return calls


async def run_echo(client: Client, runner) -> tuple[Greeting, object]:
    task_queue = f"test-runner-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=task_queue, workflows=[EchoWorkflow], activities=[echo], workflow_runner=runner):
        handle = await client.start_workflow(
            EchoWorkflow.run, Greeting(name="ada", times=1), id=f"runner-{uuid.uuid4().hex}", task_queue=task_queue
        )
        return await handle.result(), await handle.fetch_history()


def test_the_projects_converter_takes_no_context_and_a_context_codec_does():
    assert not takes_context(pydantic_data_converter)
    assert takes_context(dataclasses.replace(pydantic_data_converter, payload_codec=RecordingCodec()))
    assert isinstance(workflow_runner(pydantic_data_converter), ContextFreeSandboxedRunner)
    runner = workflow_runner(dataclasses.replace(pydantic_data_converter, payload_codec=RecordingCodec()))
    assert isinstance(runner, LeanSandboxedRunner) and not isinstance(runner, ContextFreeSandboxedRunner)


async def test_a_context_free_converter_runs_and_replays_without_asking_the_sandbox(time_skipping_env, monkeypatch):
    calls = count_sandbox_context_calls(monkeypatch)

    result, history = await run_echo(time_skipping_env.client, SandboxedWorkflowRunner())
    assert result == Greeting(name="ADA", times=2)
    assert calls[0] > 0  # the SDK's own runner enters the sandbox for its payloads

    calls[0] = 0
    result, history = await run_echo(time_skipping_env.client, workflow_runner(pydantic_data_converter))
    assert result == Greeting(name="ADA", times=2)
    replayer = Replayer(
        workflows=[EchoWorkflow], data_converter=pydantic_data_converter, workflow_runner=workflow_runner(pydantic_data_converter)
    )
    await replayer.replay_workflow(history)
    assert calls[0] == 0


async def test_a_converter_that_takes_context_still_gets_the_workflows_context(time_skipping_env, monkeypatch):
    calls = count_sandbox_context_calls(monkeypatch)
    codec = RecordingCodec()
    converter = dataclasses.replace(pydantic_data_converter, payload_codec=codec)
    client = Client(**{**time_skipping_env.client.config(), "data_converter": converter})

    result, history = await run_echo(client, workflow_runner(converter))

    assert result == Greeting(name="ADA", times=2)
    assert calls[0] > 0
    assert history.workflow_id in codec.workflows


@workflow.defn(name="TestRunnerWaitingWorkflow", sandboxed=True)
class WaitingWorkflow:
    def __init__(self) -> None:
        self._finished = False

    @workflow.run
    async def run(self, greeting: Greeting) -> Greeting:
        greeting = await workflow.execute_activity(echo, greeting, start_to_close_timeout=timedelta(seconds=10))
        await workflow.wait_condition(lambda: self._finished)
        return greeting

    @workflow.signal
    def finish(self) -> None:
        self._finished = True


async def at_rest(handle) -> None:
    """Until the run's activity is done and the workflow task after it completed: the run is cached, waiting."""
    for _ in range(600):
        events = [event.event_type for event in (await handle.fetch_history()).events]
        if EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED in events and events[-1] == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{handle.id} never came to rest")


def kept_messages() -> tuple[int, int]:
    """Activations (or their first job) alive in this process, and completions alive that still hold commands."""
    gc.collect()
    alive = gc.get_objects()
    activations = sum(isinstance(o, WorkflowActivation | InitializeWorkflow) for o in alive)
    completions = sum(isinstance(o, WorkflowActivationCompletion) and o.ByteSize() > 0 for o in alive)
    return activations, completions


async def test_cached_runs_keep_no_activation_or_completion_they_are_done_with(time_skipping_env):
    """The SDK's own runner keeps, for every cached run, its first and last activations and its last
    completion (each a whole upb message: the first one carries the run's input); ours keeps none of
    them (the worker's poll loop holds the activation it polled last, one whatever the runs)."""
    runs = 3
    big = Greeting(name="x" * 20_000, times=1)
    for runner, keeps in ((SandboxedWorkflowRunner(), True), (workflow_runner(pydantic_data_converter), False)):
        task_queue = f"test-runner-{uuid.uuid4().hex[:8]}"
        client = time_skipping_env.client
        async with Worker(client, task_queue=task_queue, workflows=[WaitingWorkflow], activities=[echo], workflow_runner=runner):
            handles = [
                await client.start_workflow(WaitingWorkflow.run, big, id=f"runner-{uuid.uuid4().hex}", task_queue=task_queue)
                for _ in range(runs)
            ]
            for handle in handles:
                await at_rest(handle)
            activations, completions = kept_messages()
            for handle in handles:
                await handle.signal(WaitingWorkflow.finish)
            assert [(await handle.result()).times for handle in handles] == [2] * runs
        if keeps:
            assert activations >= 2 * runs and completions >= runs, (activations, completions)
        else:
            assert activations <= 1 and completions == 0, (activations, completions)
