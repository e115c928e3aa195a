"""The workflow runner (services/workflow_runner.py) answers the SDK's per-payload context questions
without entering the sandbox when the data converter takes no context, and leaves a converter that
takes one to the sandbox's answers."""

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import timedelta

from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import PayloadCodec, SerializationContext, WithSerializationContext, WorkflowSerializationContext
from temporalio.worker import Replayer, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox._runner import _Instance

from services.workflow_runner import ContextFreeSandboxedRunner, takes_context, workflow_runner


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
    assert isinstance(
        workflow_runner(dataclasses.replace(pydantic_data_converter, payload_codec=RecordingCodec())), SandboxedWorkflowRunner
    )


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
