"""The workflow runner every worker and replayer of incidents uses: Temporal's sandbox, without its
round trip into the sandbox for each payload when nothing would use what it brings back.

For every payload a workflow task decodes or encodes (three passes each way), temporalio 1.35 asks
the workflow instance for a serialization context and an external-store context. The sandboxed
instance answers by ``exec``-ing a code string inside the sandbox each time: in the profiles, 7 to
11 % of the worker's CPU and about a third of a long run's replay (bench/findings.md). A data
converter that takes no serialization context and stores nothing externally converts a payload the
same with any context, so for such a converter the runner answers without entering the sandbox.
A converter that does take one (a codec that encrypts per workflow, say) gets the sandbox's answer,
as before.

Either way, a cached run keeps no activation it is done with. temporalio's protobuf messages are
upb's: a part of a message keeps the whole message alive, and the SDK kept three whole messages for
every cached run: its first activation (with the run's input, the pinned plan: 15 KiB for
``technical_outage``), through the run's ``last_completion_result`` and its input's headers; its
last activation, through that activation's internal flags; and its last completion (every command
of its last workflow task). The runner gives the run standalone copies of those parts and lets go of
the completion once each activation is answered (bench/findings.md, Memory). One part is left:
the SDK keeps the last activation's worker deployment version (set on every activation), which
keeps that activation's memory (not a Python object), 0.7 to 2.7 KiB a run in a measurement.
"""

import dataclasses

from google.protobuf.message import Message
from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.converter import (
    ActivitySerializationContext,
    DataConverter,
    SerializationContext,
    StorageDriverStoreContext,
    WorkflowSerializationContext,
)
from temporalio.worker import (
    WorkflowInstance,
    WorkflowInstanceDetails,
    WorkflowRunner,
)
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions
from temporalio.workflow import Info, _Definition

# The workflow modules a run shares with every other run instead of importing its own copy. Without
# this the sandbox imports ``workflows/incident.py`` anew for each run and applies ``@workflow.defn``
# to its class again: most of the CPU of creating a run's instance (about 4 of 4 to 6 ms), paid in
# every incident's first workflow task and in every replay (bench/findings.md, "A lighter first task,
# pages first"). The module holds only the class, as the orchestration it imports holds no state at module
# level (docs/workflow-changes.md); each run still gets its own instance, in a sandbox of its own.
SHARED_WORKFLOW_MODULES = ("workflows.incident",)
RESTRICTIONS = SandboxRestrictions.default.with_passthrough_modules(*SHARED_WORKFLOW_MODULES)

_PROBES: tuple[SerializationContext, ...] = (
    WorkflowSerializationContext(namespace="probe", workflow_id="probe"),
    ActivitySerializationContext(
        namespace="probe",
        activity_id="probe",
        activity_type="probe",
        activity_task_queue="probe",
        workflow_id="probe",
        workflow_type="probe",
        is_local=False,
    ),
)


def takes_context(converter: DataConverter) -> bool:
    """Whether a payload's conversion can depend on its workflow or activity: the converter keeps
    itself for every kind of context (``DataConverter.with_context`` returns the same object when
    none of its parts takes one) and stores no payload externally."""
    return converter.external_storage is not None or any(converter.with_context(probe) is not converter for probe in _PROBES)


def _detached(message: Message) -> Message:
    """A standalone copy of a protobuf message that may be part of a bigger one (which it would keep whole)."""
    copy = type(message)()
    copy.CopyFrom(message)
    return copy


def _detached_details(det: WorkflowInstanceDetails) -> WorkflowInstanceDetails:
    """``det`` whose protobuf parts (cut from the run's first activation by the SDK) stand alone."""
    info = dataclasses.replace(
        det.info,
        headers={name: _detached(payload) for name, payload in det.info.headers.items()},
        raw_memo={name: _detached(payload) for name, payload in det.info.raw_memo.items()},
    )
    return dataclasses.replace(
        det,
        info=info,
        last_completion_result=_detached(det.last_completion_result),
        last_failure=_detached(det.last_failure) if det.last_failure is not None else None,
    )


class _LeanInstance(WorkflowInstance):
    """A sandboxed instance that keeps no activation or completion between workflow tasks."""

    def __init__(self, sandboxed: WorkflowInstance) -> None:
        self._sandboxed = sandboxed

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        completion = self._sandboxed.activate(act)
        self._let_go()
        return completion

    def _let_go(self) -> None:
        """Drop what temporalio 1.35's instance keeps of the activation just answered: the completion
        (replaced at the next activation's start), the activation's internal flags (a part of it, read
        as a plain list until the next one) and the workflow input's headers (a part of the first
        activation). An SDK whose sandbox is laid out otherwise keeps what it keeps."""
        space = getattr(self._sandboxed, "globals_and_locals", None)
        if not isinstance(space, dict):
            return
        instance = getattr(space.get("__temporal_in_sandbox"), "instance", None)  # the SDK's instance, in the sandbox
        if instance is None:
            return
        if isinstance(getattr(instance, "_current_completion", None), WorkflowActivationCompletion):
            instance._current_completion = WorkflowActivationCompletion()
        flags = getattr(instance, "_current_internal_flags", None)
        if flags is not None and not isinstance(flags, list):
            instance._current_internal_flags = list(flags)
        started = getattr(instance, "_workflow_input", None)
        if started is not None and not isinstance(started.headers, dict):
            started.headers = {name: _detached(payload) for name, payload in started.headers.items()}

    def get_serialization_context(self, command_info) -> SerializationContext | None:
        return self._sandboxed.get_serialization_context(command_info)

    def get_external_store_context(self, command_info) -> StorageDriverStoreContext:
        return self._sandboxed.get_external_store_context(command_info)

    def get_info(self) -> Info:
        return self._sandboxed.get_info()

    def get_thread_id(self) -> int | None:
        return self._sandboxed.get_thread_id()


class _ContextFreeInstance(_LeanInstance):
    """A lean sandboxed instance that also answers the per-payload context questions itself."""

    _NO_STORE = StorageDriverStoreContext()

    def get_serialization_context(self, command_info) -> SerializationContext | None:
        return None

    def get_external_store_context(self, command_info) -> StorageDriverStoreContext:
        return self._NO_STORE


class LeanSandboxedRunner(WorkflowRunner):
    """Temporal's sandboxed runner whose cached runs keep no activation they are done with."""

    _instance = _LeanInstance

    def __init__(self, sandboxed: SandboxedWorkflowRunner) -> None:
        self._sandboxed = sandboxed

    def prepare_workflow(self, defn: _Definition) -> None:
        self._sandboxed.prepare_workflow(defn)

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return self._instance(self._sandboxed.create_instance(_detached_details(det)))

    def set_worker_level_failure_exception_types(self, types) -> None:
        self._sandboxed.set_worker_level_failure_exception_types(types)


class ContextFreeSandboxedRunner(LeanSandboxedRunner):
    """The lean runner whose instances also skip the per-payload context round trip."""

    _instance = _ContextFreeInstance


def workflow_runner(converter: DataConverter) -> WorkflowRunner:
    """The runner for workflows whose payloads ``converter`` converts."""
    sandboxed = SandboxedWorkflowRunner(restrictions=RESTRICTIONS)
    return LeanSandboxedRunner(sandboxed) if takes_context(converter) else ContextFreeSandboxedRunner(sandboxed)
