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
"""

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


class _ContextFreeInstance(WorkflowInstance):
    """A sandboxed instance that answers the per-payload context questions itself."""

    _NO_STORE = StorageDriverStoreContext()

    def __init__(self, sandboxed: WorkflowInstance) -> None:
        self._sandboxed = sandboxed

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        return self._sandboxed.activate(act)

    def get_serialization_context(self, command_info) -> SerializationContext | None:
        return None

    def get_external_store_context(self, command_info) -> StorageDriverStoreContext:
        return self._NO_STORE

    def get_info(self) -> Info:
        return self._sandboxed.get_info()

    def get_thread_id(self) -> int | None:
        return self._sandboxed.get_thread_id()


class ContextFreeSandboxedRunner(WorkflowRunner):
    """Temporal's sandboxed runner whose instances skip the per-payload context round trip."""

    def __init__(self, sandboxed: SandboxedWorkflowRunner) -> None:
        self._sandboxed = sandboxed

    def prepare_workflow(self, defn: _Definition) -> None:
        self._sandboxed.prepare_workflow(defn)

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _ContextFreeInstance(self._sandboxed.create_instance(det))

    def set_worker_level_failure_exception_types(self, types) -> None:
        self._sandboxed.set_worker_level_failure_exception_types(types)


def workflow_runner(converter: DataConverter) -> WorkflowRunner:
    """The runner for workflows whose payloads ``converter`` converts."""
    sandboxed = SandboxedWorkflowRunner(restrictions=RESTRICTIONS)
    return sandboxed if takes_context(converter) else ContextFreeSandboxedRunner(sandboxed)
