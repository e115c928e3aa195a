"""Every run of IncidentWorkflow shares the orchestration's code: the sandbox imports only the
workflow's definition afresh for a run, never ``workflows.incident_flow`` or ``domain``.

A copy of the orchestration per run was about 185 KiB of the worker's memory for every open
incident (bench/findings.md). The sandbox is Temporal's own, set up as a worker sets it up for
each workflow run (``SandboxRestrictions.default``, the workflow's module imported anew)."""

import sys

from temporalio.worker.workflow_sandbox._importer import Importer
from temporalio.worker.workflow_sandbox._restrictions import RestrictionContext, SandboxRestrictions

from workflows.incident import IncidentWorkflow
from workflows.incident_flow import IncidentFlow

OURS = ("activities", "channels", "domain", "workflows")


def import_for_a_run():
    """workflows.incident as the sandbox imports it for a new run, and the modules the run then sees."""
    importer = Importer(SandboxRestrictions.default, RestrictionContext(), workflow_module_name="workflows.incident")
    with importer.applied():
        module = __import__("workflows.incident", fromlist=["IncidentWorkflow"])
        seen = dict(sys.modules)
    return module, seen


def test_a_run_gets_its_own_workflow_class_on_the_shared_orchestration():
    module, _ = import_for_a_run()
    assert module.IncidentWorkflow is not IncidentWorkflow  # the sandbox still isolates the definition
    assert module.IncidentWorkflow.__mro__[1] is IncidentFlow


def test_a_run_copies_none_of_our_modules_but_the_workflow_definition():
    _, seen = import_for_a_run()
    copied = sorted(name for name, module in seen.items() if name.split(".")[0] in OURS and sys.modules.get(name) is not module)
    assert copied == ["workflows", "workflows.incident"]
