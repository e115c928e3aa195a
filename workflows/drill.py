"""ScheduledDrillWorkflow: what a Temporal Schedule starts for a recurring drill.

A schedule's arguments are fixed when it is made, but a drill should run the playbook as it is on
the day: so each run resolves the plan in an activity, then starts the drill's own
IncidentWorkflow (abandoned on purpose: the drill lives on after this starter returns).
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.drills import DrillActivities
    from domain.drills import DrillRequest
    from workflows.incident import IncidentWorkflow
    from workflows.search_attributes import CRISIS_DRILL, CRISIS_PHASE, CRISIS_SCENARIO, CRISIS_SEVERITY


@workflow.defn
class ScheduledDrillWorkflow:
    @workflow.run
    async def run(self, request: DrillRequest) -> str:
        plan = await workflow.execute_activity_method(
            DrillActivities.prepare_drill,
            request,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=3),
            summary=f"pin the {request.playbook} playbook for the drill",
        )
        await workflow.start_child_workflow(
            IncidentWorkflow.run,
            plan,
            id=plan.id,
            parent_close_policy=ParentClosePolicy.ABANDON,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(CRISIS_SCENARIO, plan.playbook.scenario.value),
                    SearchAttributePair(CRISIS_SEVERITY, plan.severity.value),
                    SearchAttributePair(CRISIS_PHASE, "identify"),
                    SearchAttributePair(CRISIS_DRILL, True),
                ]
            ),
            static_summary=f"[DRILL] {plan.title}",
            static_details=f"Scheduled drill of playbook **{plan.playbook.name}** (`{plan.playbook.id}`)",
        )
        return plan.id
