"""A long incident on the time-skipping server: the API and the worker as they run in production,
and a crisis team that acts only on what the incident's ``pending`` list asks, letting the time
pass to each next update. Used by tests/workflow/test_long_incident.py (a SEV1 outage for 30 days)
and by the benchmark of a long incident's replay (bench/replay.py)."""

import asyncio
from datetime import datetime, timedelta

import httpx
from temporalio.api.testservice.v1 import SleepRequest, UnlockTimeSkippingRequest
from temporalio.client import Client, WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from tests.app_stack import Stack

OUTAGE = {
    "playbook": "technical_outage",
    "title": "Checkout down in every region",
    "summary": "Payments time out.",
    "severity": "SEV1",
    "fact_sheet": {"headline": "Online ordering is down"},
}
APPROVAL_WINDOW = timedelta(
    minutes=5
)  # technical_outage's approval_within at SEV1: updates are drafted this long before their promise


RETRIES_ON_503 = 10
# A read of the incident that has no answer by then is asked again. The test server can leave a query
# unanswered for good when it reaches a run in the moment that run continues as new (the API gives up
# only at its own deadline, 30 s with its grace), and the lock of a refused task is usually stuck too.
READ_DEADLINE = timedelta(seconds=8)
SKIP_DEADLINE = timedelta(minutes=5)
# Of wall time in a skip with the server's clock creeping, twice running: a workflow task holds the
# lock for well under a second, so 16 s without an activity in progress is a stuck lock (the 30-day
# run met seven; at 20 s a look they cost it five minutes of waiting).
STUCK_AFTER = timedelta(seconds=8)
SETTLE_EVERY = 0.05  # seconds between looks at the activities in progress while the workflow drafts or publishes
SETTLE_LOOKS = 20


class Team:
    """The crisis team, acting through the API only on what the incident's ``pending`` list asks."""

    def __init__(self, http: httpx.AsyncClient, env: WorkflowEnvironment, incident: str):
        self.http, self.env, self.incident = http, env, incident
        self.stuck_locks_released = 0
        self.reads_asked_again = 0
        self.lock_suspect = False
        self.answered: dict | None = None

    @classmethod
    async def declare(cls, stack: Stack, declaration: dict = OUTAGE) -> "Team":
        declared = await stack.http.post("/incidents", json=declaration)
        assert declared.status_code == 201, declared.text
        return cls(stack.http, stack.env, declared.json()["id"])

    async def state(self) -> dict:
        """The incident, asked again as a 503 says (``Retry-After``), as a page or a client would: a
        query that arrives while the worker rebuilds a long run (a continued run's first task,
        or an evicted one) can miss the API's deadline on a loaded machine. A read with no answer
        within ``READ_DEADLINE`` is asked again too, and makes the next skip quicker to take the
        server's lock for stuck (``skip``). Only reads are asked again: an action that got a 503 may
        have been done."""
        for _ in range(RETRIES_ON_503):
            try:
                response = await asyncio.wait_for(self.http.get(f"/incidents/{self.incident}"), READ_DEADLINE.total_seconds())
            except TimeoutError:
                self.reads_asked_again += 1
                self.lock_suspect = True
                continue
            if response.status_code != 503:
                break
            await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
        assert response.status_code == 200, response.text
        return response.json()

    async def post(self, path: str, body: dict) -> dict:
        response = await self.http.post(f"/incidents/{self.incident}/{path}", json=body)
        assert response.status_code == 200, response.text
        self.answered = response.json()
        return self.answered

    async def act(self, state: dict) -> dict | None:
        """Do one thing the pending list asks (statement approvals and tasks) and return the API's
        answer (the incident after the action); None when nothing is asked."""
        for item in state["pending"]:
            if item["kind"] == "acknowledge":
                await self.post("acknowledge", {"person": item["people"][0]})
            elif item["kind"] == "assessment":
                answers = {q["id"]: "Checked." for q in item["questions"]}
                await self.post(
                    "assessment",
                    {
                        "person": item["people"][0],
                        "impact": "extreme",
                        "reach": "high",
                        "answers": answers,
                        "facts": ["Checkout fails in every region."],
                        "audiences": ["customers"],
                    },
                )
            elif item["kind"] == "task":
                await self.post(f"tasks/{item['task_id']}/complete", {"person": item["people"][0], "note": "done"})
            elif item["kind"] == "approval":
                await self.post(f"statements/{item['version']}/decision", {"person": item["people"][0], "decision": "approve"})
            elif item["kind"] == "review":
                await self.post(
                    "review",
                    {
                        "person": item["people"][0],
                        "summary": "A month-long outage, handled.",
                        "went_well": ["Updates on time"],
                        "went_badly": ["The outage itself"],
                        "action_items": [],
                    },
                )
            else:
                continue
            return self.answered
        return None

    async def skip(self, duration: timedelta) -> None:
        """The server's clock moves on by ``duration``, as ``WorkflowEnvironment.sleep`` does, but with
        a deadline of its own: the test server answers once the time has passed, and the activities
        the incident runs meanwhile (drafting, publishing) take real time, more than the client's
        default RPC deadline on a loaded machine.

        The test server holds time still while it counts a task in progress, and can leave one
        counted for good: a task it handed out for a run that then continued as new is refused when
        the worker answers it ("workflow execution already completed"), so its lock is never
        released and time from then on passes at the wall clock's pace (a 34-minute skip outlasted
        its 5-minute deadline in CI). When the clock creeps while the incident has no activity in
        progress, that lock is given back once, and counted in ``stuck_locks_released``: after two
        looks, or after one when a read of the incident has just gone unanswered (``state``), which
        is how such a lock most often shows itself first."""
        request = SleepRequest()
        request.duration.FromTimedelta(duration)
        sleeping = asyncio.ensure_future(
            self.env.client.test_service.unlock_time_skipping_with_sleep(request, timeout=SKIP_DEADLINE)
        )
        clock, creeping = await self.env.get_current_time(), 0
        while not (await asyncio.wait({sleeping}, timeout=STUCK_AFTER.total_seconds()))[0]:
            now = await self.env.get_current_time()
            creeping = creeping + 1 if now - clock < STUCK_AFTER * 2 and not await self._activities_in_progress() else 0
            if creeping == (1 if self.lock_suspect else 2):  # a task's lock is released within seconds; a stuck one stays
                await self.env.client.test_service.unlock_time_skipping(UnlockTimeSkippingRequest())
                self.stuck_locks_released += 1
                creeping = 0
            clock = now
        self.lock_suspect = False
        sleeping.result()

    async def _activities_in_progress(self) -> bool:
        description = await self.env.client.get_workflow_handle(self.incident).describe()
        return bool(description.raw_description.pending_activities)

    async def run_until(self, end: datetime, stop=lambda state: False) -> dict:
        """Act on the incident and let its time pass, to the next update's drafting each time, until
        ``end`` (the server's clock) or ``stop(state)``."""
        state = await self.state()
        while True:
            if stop(state):
                return state
            if answered := await self.act(state):
                state = answered  # the incident as the action left it, as a client reads its answer
                continue
            now = await self.env.get_current_time()
            if now >= end:
                return state
            due = state["next_update_due"] and datetime.fromisoformat(state["next_update_due"])
            drafting = due - APPROVAL_WINDOW if due else None
            if drafting and drafting > now and not in_flight(state):
                await self.skip(min(drafting, end) - now + timedelta(seconds=1))
            else:
                await self.settle()
            state = await self.state()

    async def settle(self) -> None:
        """Wait while the workflow drafts or publishes (activities run in real time), asking the
        server whether activities are in progress rather than reading the whole incident again."""
        for _ in range(SETTLE_LOOKS):
            await asyncio.sleep(SETTLE_EVERY)
            if not await self._activities_in_progress():
                return


def in_flight(state: dict) -> bool:
    return any(s["status"] in ("pending_approval", "approved") for s in state["statements"])


async def runs_of(client: Client, incident: str) -> list[WorkflowHistory]:
    """The history of every run of the incident's workflow, oldest first (each names the run it continued)."""
    runs = []
    run_id = (await client.get_workflow_handle(incident).describe()).run_id
    while run_id:
        history = await client.get_workflow_handle(incident, run_id=run_id).fetch_history()
        runs.append(history)
        run_id = history.events[0].workflow_execution_started_event_attributes.continued_execution_run_id
    return runs[::-1]
