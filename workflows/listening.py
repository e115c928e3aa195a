"""ListeningWorkflow: one per monitored topic (workflow id ``listening-<topic>``), the topic's detector.

Mentions are stored by the API before anyone is woken, so none is lost if a worker stops. The
workflow only keeps the detector's place (:class:`DetectorState`: the first bucket not yet final
and the baseline) and asks a local activity to judge what arrived since; the pass stores each
detection as a signal under an id derived from the topic and bucket, so an evaluation repeated
after a crash stores nothing twice. The API nudges the workflow after each batch (signal-with-start);
a slow timer covers a nudge that never came. The run continues as new every few hundred
evaluations, so its history stays short however long the topic is watched.
"""

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel
    from temporalio.client import Client
    from temporalio.service import RPCError, RPCStatusCode

    from activities.listening import Evaluation, ListeningActivities
    from domain.listening import DetectorState

EVALUATIONS_PER_RUN = 200
SAFETY_POLL = timedelta(minutes=5)
ACTIVITY_TIMEOUT = timedelta(minutes=2)
LOCAL_EVALUATION = "lean-scale-local-evaluation"
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))


def workflow_id(topic: str) -> str:
    return f"listening-{topic}"


class ListeningInput(BaseModel):
    topic: str
    state: DetectorState | None = None
    evaluations_per_run: int = EVALUATIONS_PER_RUN


@workflow.defn
class ListeningWorkflow:
    def __init__(self) -> None:
        self._nudged = False
        self._state: DetectorState | None = None

    @workflow.signal
    def nudge(self) -> None:
        """New mentions for this topic are stored."""
        self._nudged = True

    @workflow.query
    def detector(self) -> DetectorState | None:
        return self._state

    async def _evaluate(self, topic: str) -> Evaluation:
        """One pass of the detector. A local activity: it runs in the worker that holds this
        workflow's task, with no activity task for the server to schedule, hand out and record
        (a pass follows every batch of mentions, so that was most of the server's work per batch);
        a pass is safe to repeat, which is all a local activity asks."""
        judge = workflow.execute_local_activity if workflow.patched(LOCAL_EVALUATION) else workflow.execute_activity
        return await judge(
            ListeningActivities.evaluate_topic,
            self._state,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
            summary=f"judge new mentions of {topic}",
        )

    @workflow.run
    async def run(self, start: ListeningInput) -> None:
        self._state = start.state or DetectorState(topic=start.topic)
        workflow.set_current_details(f"Watching topic `{start.topic}`")
        for _ in range(start.evaluations_per_run):
            self._nudged = False  # a nudge that arrives while the activity runs asks for one more pass
            evaluation: Evaluation = await self._evaluate(start.topic)
            self._state = evaluation.state
            for signal_id in evaluation.declare:
                try:
                    await workflow.execute_activity(
                        ListeningActivities.declare_from_signal,
                        signal_id,
                        activity_id=f"declare-{signal_id}",
                        start_to_close_timeout=ACTIVITY_TIMEOUT,
                        retry_policy=RETRY,
                        summary=f"declare the incident for {signal_id}",
                    )
                except ActivityError as error:  # refused for good (say, its playbook was removed): a person decides
                    workflow.logger.warning("signal %s was not declared: %s", signal_id, error.cause or error)
            if not evaluation.topic_known:
                workflow.logger.info("topic %s is no longer monitored; the detector stops", start.topic)
                return
            if evaluation.backlog:
                continue
            try:
                await workflow.wait_condition(lambda: self._nudged, timeout=SAFETY_POLL, timeout_summary="no new mentions")
            except TimeoutError:
                pass
            if workflow.info().is_continue_as_new_suggested():
                break
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(
            ListeningInput(topic=start.topic, state=self._state, evaluations_per_run=start.evaluations_per_run)
        )


NUDGE_ATTEMPTS = 3


async def nudge_topics(client: Client, task_queue: str, topics: list[str]) -> None:
    """Wake each topic's detector, starting it when it does not run yet (signal-with-start), all
    at once: a batch's answer waits for the slowest nudge, not for their sum. A signal that meets a
    run just as it continues as new can be refused as "completed": asked again, it reaches the next
    run. Temporal being unreachable is raised once every nudge has ended (the API answers 503)."""
    for outcome in await asyncio.gather(*(_nudge(client, task_queue, topic) for topic in topics), return_exceptions=True):
        if isinstance(outcome, BaseException):
            raise outcome


async def _nudge(client: Client, task_queue: str, topic: str) -> None:
    for attempt in range(1, NUDGE_ATTEMPTS + 1):
        try:
            await client.start_workflow(
                ListeningWorkflow.run,
                ListeningInput(topic=topic),
                id=workflow_id(topic),
                task_queue=task_queue,
                start_signal="nudge",
                static_summary=f"Listening: {topic}",
            )
            return
        except RPCError as error:
            if error.status == RPCStatusCode.UNAVAILABLE or attempt == NUDGE_ATTEMPTS:
                raise
            await asyncio.sleep(0.05 * attempt)
