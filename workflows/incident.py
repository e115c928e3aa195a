"""IncidentWorkflow: one durable run of a playbook, from declaration to closed.

It holds only the workflow's definition: the orchestration is
:class:`workflows.incident_flow.IncidentFlow` and the rules it applies are in ``domain``, both passed
through the sandbox and shared by every run. Temporal's default sandbox would import this module
afresh for every run; the incidents' runner (services/workflow_runner.py) passes it through too, so
it must hold no state either.
"""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.models import IncidentOutcome
    from domain.incident import IncidentPlan
    from workflows.incident_flow import (
        CONTINUE_AS_NEW_AFTER,
        EARLIER_UPDATES,
        NOTICE_CLOSES_WITHIN,
        PUBLISH_RETRY,
        RETRYING_AFTER,
        IncidentFlow,
    )

__all__ = [
    "CONTINUE_AS_NEW_AFTER",
    "EARLIER_UPDATES",
    "NOTICE_CLOSES_WITHIN",
    "PUBLISH_RETRY",
    "RETRYING_AFTER",
    "IncidentWorkflow",
]


@workflow.defn
class IncidentWorkflow(IncidentFlow):
    @workflow.init
    def __init__(self, plan: IncidentPlan) -> None:
        super().__init__(plan)

    @workflow.run
    async def run(self, plan: IncidentPlan) -> IncidentOutcome:
        return await super().run(plan)
