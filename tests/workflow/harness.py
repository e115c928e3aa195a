"""A worker on the time-skipping server with a throwaway read model, and helpers to act on incidents."""

import asyncio
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.drills import DrillActivities
from activities.incident import IncidentActivities, RosterSource
from channels.base import Channel, ChannelKind, Delivery, OutgoingMessage, TransientDeliveryError
from channels.outbox import OutboxChannel
from domain import actions
from domain.answers import pin_answers
from domain.catalog import Catalog
from domain.incident import IncidentPlan
from domain.receipts import UpdateReceipt
from domain.severity import Severity
from services.workflow_runner import workflow_runner
from store import service
from store.db import create_engine, create_schema, session_factory
from tests.driver import next_step
from workflows.drill import ScheduledDrillWorkflow
from workflows.incident import IncidentWorkflow

LOCAL_ACTIVITY = "core_local_activity"  # the marker Temporal's core records for a local activity's result


@dataclass
class Harness:
    env: WorkflowEnvironment
    task_queue: str
    sessions: object
    catalog: Catalog

    def plan(
        self,
        playbook: str = "account_compromise",
        severity: Severity = Severity.SEV2,
        drill: bool = False,
        incident_id: str | None = None,
    ) -> IncidentPlan:
        book = self.catalog.playbooks[playbook]
        return IncidentPlan(
            id=incident_id or f"inc-{uuid.uuid4().hex[:16]}",
            title=f"Test {playbook}",
            summary="Something is happening on social media.",
            severity=severity,
            language="en",
            drill=drill,
            playbook=book,
            org=self.catalog.roster.org_chart(),
            template=self.catalog.template(book, "en"),
            answers=pin_answers(self.catalog.answers.get(playbook), "en"),
            internal_templates=self.catalog.internal_templates(book, "en"),
        )

    def commander_only(self, plan: IncidentPlan) -> IncidentPlan:
        """The plan with only the commander's role paged at declaration (fewer sends to watch)."""
        book = plan.playbook
        identify = book.identify.model_copy(update={"page": [book.identify.commander]})
        return plan.model_copy(update={"playbook": book.model_copy(update={"identify": identify})})

    async def start(self, plan: IncidentPlan) -> WorkflowHandle:
        return await self.env.client.start_workflow(IncidentWorkflow.run, plan, id=plan.id, task_queue=self.task_queue)

    async def state(self, handle: WorkflowHandle) -> dict:
        """The incident's view as the API sends it (JSON)."""
        return (await handle.query(IncidentWorkflow.state)).model_dump(mode="json")

    async def until(self, handle: WorkflowHandle, predicate, attempts: int = 200) -> dict:
        """Poll the state (in real time, not skipped time) until ``predicate`` holds."""
        for _ in range(attempts):
            state = await self.state(handle)
            if predicate(state):
                return state
            await asyncio.sleep(0.05)
        raise AssertionError(f"condition never held; last phase {state['phase']}, pending {state['pending']}")

    async def act(self, handle: WorkflowHandle, update: str, action: actions.Action) -> UpdateReceipt:
        return await handle.execute_update(getattr(IncidentWorkflow, update), action)

    async def drive_to_closed(self, handle: WorkflowHandle, max_steps: int = 200) -> dict:
        return await self.drive_until(handle, lambda state: state["status"] == "closed", max_steps)

    async def drive_until(self, handle: WorkflowHandle, done, max_steps: int = 200) -> dict:
        """Act on the incident as its pending list says until ``done(state)`` holds (checked before each step)."""
        for _ in range(max_steps):
            state = await self.state(handle)
            if done(state):
                return state
            step = next_step(state)
            if step is None:
                await asyncio.sleep(0.05)
                continue
            await self.act(handle, step.update, step.update_input())
        raise AssertionError(f"the incident did not get there: phase {state['phase']}, pending {state['pending']}")

    async def outbox(self, incident_id: str) -> list:
        async with self.sessions() as session:
            return await service.list_outbox(session, incident_id=incident_id)

    async def until_emailed(self, incident_id: str, kind: str, person: str) -> None:
        """Poll the outbox (in real time) until an email of ``kind`` has reached ``person``."""
        await self.until_sent(incident_id, kind, person, "email")

    async def until_sent(self, incident_id: str, kind: str, person: str, channel: str) -> None:
        """Poll the outbox (in real time) until a message of ``kind`` has reached ``person`` on ``channel``:
        notices go beside the incident's flow, so one may still be on its way when the state has moved on."""
        for _ in range(200):
            if any(m.kind == kind and m.channel == channel and m.person_id == person for m in await self.outbox(incident_id)):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {kind} {channel} reached {person}")

    async def timeline(self, incident_id: str) -> list:
        async with self.sessions() as session:
            return await service.list_timeline(session, incident_id)


class SmsOutage:
    """An SMS provider that answers every send with a 503 until it is back."""

    name = "sms-outage"

    def __init__(self) -> None:
        self.down = True
        self.tries: list[str] = []  # ledger keys, one per attempt
        self.delivered: list[OutgoingMessage] = []

    async def send(self, message: OutgoingMessage) -> Delivery:
        self.tries.append(message.ledger_key)
        if self.down:
            raise TransientDeliveryError("503 Service Unavailable")
        self.delivered.append(message)
        return Delivery(channel=self.name, accepted=True, provider_id=f"SM{len(self.delivered)}")


class EmailOutage(SmsOutage):
    """An email provider that answers every send with a 503 until it is back."""

    name = "email-outage"


@asynccontextmanager
async def open_harness(
    env: WorkflowEnvironment,
    catalog: Catalog,
    database: Path,
    channels: dict[ChannelKind, Channel] | None = None,
    roster: Path | None = None,
    publishing: dict[str, Channel] | None = None,
    activities_class: type[IncidentActivities] = IncidentActivities,
):
    """``channels``: the providers to use instead of the outbox, per kind (the outbox for the rest);
    ``roster``: a folder whose team.yaml the activities read contacts from (the catalog's by default);
    ``publishing``: publishing targets by name besides the outbox, all of them the default targets;
    ``activities_class``: the activities as another worker version would run them."""
    engine = create_engine(f"sqlite+aiosqlite:///{database}", single_connection=True)  # as the worker's
    await create_schema(engine)
    sessions = session_factory(engine)
    outbox = OutboxChannel(sessions)
    kinds = {kind: outbox for kind in ChannelKind} | (channels or {})
    targets = {**(publishing or {}), "outbox": kinds[ChannelKind.PUBLIC]}
    activities = activities_class(
        sessions,
        RosterSource(roster or catalog.directory),
        kinds,
        "http://test",
        publishing=targets,
        default_targets=list(targets),
    )
    task_queue = f"test-{uuid.uuid4().hex[:8]}"
    try:
        async with Worker(
            env.client,
            task_queue=task_queue,
            workflows=[IncidentWorkflow, ScheduledDrillWorkflow],
            activities=activities.all() + DrillActivities(catalog.directory).all(),
            workflow_runner=workflow_runner(env.client.data_converter),
        ):
            yield Harness(env, task_queue, sessions, catalog)
    finally:
        await engine.dispose()
