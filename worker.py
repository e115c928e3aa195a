"""Builds the Temporal worker that runs incidents."""

import asyncio
import logging
import signal
from collections.abc import Sequence
from datetime import timedelta

from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.runtime import Runtime
from temporalio.worker import Interceptor, Worker

from activities.detector import DetectorPool
from activities.drills import DrillActivities
from activities.incident import IncidentActivities, RosterSource
from activities.listening import ListeningActivities, TopicSource
from channels.registry import build_channels, build_chats, default_publishing_targets, publishing_targets
from channels.targets import target_variants
from domain.catalog import load_catalog
from services.allocator import glibc, trim_when_idle
from services.declare import DeclarationRefused, declare_from_signal
from services.heap import freeze_startup_heap
from services.temporal_connection import connect
from services.workflow_runner import workflow_runner
from settings import Settings
from store.db import create_engine, session_factory
from store.migrate import check_schema
from workflows.drill import ScheduledDrillWorkflow
from workflows.incident import IncidentWorkflow
from workflows.listening import ListeningWorkflow

log = logging.getLogger("crisisflow.worker")


def build_activities(settings: Settings, sessions) -> IncidentActivities:
    channels = build_channels(settings, sessions)
    return IncidentActivities(
        sessions=sessions,
        roster=RosterSource(settings.playbooks_dir),
        channels=channels,
        public_url=settings.public_url,
        link_ttl=timedelta(hours=settings.action_link_ttl_hours),
        publishing=publishing_targets(settings, sessions, channels),
        chats=build_chats(settings),
        default_targets=default_publishing_targets(settings),
        variants=target_variants(settings.publish_webhooks),
        people_at_once=settings.worker_max_concurrent_activities,
    )


def build_listening_activities(client: Client, settings: Settings, sessions) -> ListeningActivities:
    """Detection activities. A topic that declares directly declares through the one path every
    declaration takes (services/declare.py), given the playbooks only when a topic first does: most
    workers never do."""
    catalogs = []

    async def declare(session, signal) -> str:
        if not catalogs:
            catalogs.append(load_catalog(settings.playbooks_dir))
        try:
            return (await declare_from_signal(settings, client, catalogs[0], session, signal)).id
        except DeclarationRefused as refused:  # retrying cannot help; the signal stays suggested for a person
            raise ApplicationError(f"{signal.id} cannot be declared: {refused}", non_retryable=True) from None

    return ListeningActivities(sessions, TopicSource(settings.playbooks_dir), declare, DetectorPool(settings.detector_processes))


def build_worker(
    client: Client,
    settings: Settings,
    activities: IncidentActivities,
    listening: ListeningActivities,
    debug_mode: bool = False,
    interceptors: Sequence[Interceptor] = (),
) -> Worker:
    """``debug_mode``: Temporal's, without its 2-second deadlock detection (workflow code runs on the
    event loop's thread); only for tests whose thousands of queries meet a machine so loaded that one
    waits longer than that for the CPU. ``interceptors``: Temporal's worker interceptors (tests hold
    activities back with one)."""
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[IncidentWorkflow, ScheduledDrillWorkflow, ListeningWorkflow],
        activities=activities.all() + DrillActivities(settings.playbooks_dir).all() + listening.all(),
        max_concurrent_activities=settings.worker_max_concurrent_activities,
        max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
        max_cached_workflows=settings.worker_max_cached_workflows,
        max_concurrent_activity_task_polls=settings.worker_activity_pollers,
        max_concurrent_workflow_task_polls=settings.worker_workflow_pollers,
        graceful_shutdown_timeout=timedelta(seconds=10),  # a stopping worker finishes its running activities
        debug_mode=debug_mode,
        interceptors=interceptors,
        workflow_runner=workflow_runner(client.data_converter),
    )


def start_trimming(client: Client, settings: Settings) -> asyncio.Task | None:
    """The task that gives freed memory back to the system once the worker goes idle (glibc only,
    ``CRISIS_WORKER_MALLOC_TRIM_S``), counted in the SDK's metrics; None where it does not run."""
    if settings.worker_malloc_trim_s <= 0 or glibc() is None:
        return None
    meter = (client.service_client.config.runtime or Runtime.default()).metric_meter
    return asyncio.create_task(trim_when_idle(settings.worker_malloc_trim_s, meter))


async def run_worker(settings: Settings) -> None:
    """Standalone worker (``crisis worker``): refuses to start on an invalid playbooks folder or
    a database schema behind the code (``store.migrate.SchemaBehind``)."""
    load_catalog(settings.playbooks_dir)
    engine = create_engine(settings.database_url, settings.db_pool_size, settings.db_max_overflow, single_connection=True)
    try:
        await check_schema(engine)
        client = await connect(settings, metrics=True)
        sessions = session_factory(engine)
        listening = build_listening_activities(client, settings, sessions)
        worker = build_worker(client, settings, build_activities(settings, sessions), listening)
        log.info(
            "worker polling task queue %s on %s (namespace %s), database %s%s",
            settings.task_queue,
            settings.temporal_address,
            settings.temporal_namespace,
            settings.database_url_safe,
            f", SDK metrics on http://{settings.worker_metrics_bind}/metrics" if settings.worker_metrics_bind else "",
        )
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        freeze_startup_heap()
        running = asyncio.create_task(worker.run())
        stopping = asyncio.create_task(stop.wait())
        trimming = start_trimming(client, settings)
        await asyncio.wait([running, stopping], return_when=asyncio.FIRST_COMPLETED)
        if not running.done():  # SIGTERM (scaling down, a deploy): stop polling, finish what runs, exit
            await worker.shutdown()
        stopping.cancel()
        if trimming is not None:
            trimming.cancel()
        listening.close()
        await running  # a worker that failed says why
        log.info("worker stopped")
    finally:
        await engine.dispose()
