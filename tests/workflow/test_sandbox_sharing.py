"""Every run of IncidentWorkflow shares the workflow's code: the sandbox our workers and replayers run
incidents in (services/workflow_runner.py) imports none of our modules afresh for a run, neither
``workflows.incident_flow`` and ``domain`` nor ``workflows.incident``, the definition itself.

A copy of the orchestration per run was about 185 KiB of the worker's memory for every open
incident, and importing the definition anew, with ``@workflow.defn`` applied to its class again,
most of the CPU of creating a run's instance in every first workflow task (bench/findings.md).
Temporal's default sandbox imports the workflow's module anew for each run; ours passes it through."""

import sys

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker.workflow_sandbox._importer import Importer
from temporalio.worker.workflow_sandbox._restrictions import RestrictionContext, SandboxRestrictions
from temporalio.workflow import _Definition

from services.workflow_runner import RESTRICTIONS, workflow_runner
from workflows.incident import IncidentWorkflow
from workflows.incident_flow import IncidentFlow

OURS = ("activities", "channels", "domain", "workflows")


def import_for_a_run(restrictions: SandboxRestrictions = RESTRICTIONS):
    """workflows.incident as the sandbox imports it for a new run, and the modules the run then sees."""
    importer = Importer(restrictions, RestrictionContext(), workflow_module_name="workflows.incident")
    with importer.applied():
        module = __import__("workflows.incident", fromlist=["IncidentWorkflow"])
        seen = dict(sys.modules)
    return module, seen


def copied(seen: dict) -> list[str]:
    return sorted(name for name, module in seen.items() if name.split(".")[0] in OURS and sys.modules.get(name) is not module)


def test_a_run_copies_none_of_our_modules():
    module, seen = import_for_a_run()
    assert module.IncidentWorkflow is IncidentWorkflow
    assert module.IncidentWorkflow.__mro__[1] is IncidentFlow
    assert copied(seen) == []


def test_temporals_default_sandbox_would_copy_the_definition():
    """What the runner's restrictions save: the default imports the definition anew for each run."""
    module, seen = import_for_a_run(SandboxRestrictions.default)
    assert module.IncidentWorkflow is not IncidentWorkflow
    assert copied(seen) == ["workflows", "workflows.incident"]


async def test_a_new_run_does_not_define_the_workflow_again(monkeypatch):
    """Creating a run's sandboxed instance, as the worker does for each new incident and each replay,
    applies ``@workflow.defn`` to no class of ours."""
    defined: list[str] = []
    apply = _Definition._apply_to_class

    def counting(cls, **kwargs):
        defined.append(cls.__qualname__)
        return apply(cls, **kwargs)

    monkeypatch.setattr(_Definition, "_apply_to_class", staticmethod(counting))
    workflow_runner(pydantic_data_converter).prepare_workflow(_Definition.must_from_class(IncidentWorkflow))
    assert "IncidentWorkflow" not in defined
