"""Builds the Temporal worker that runs incidents."""

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from activities.incident import IncidentActivities, RosterSource
from api.settings import Settings
from channels.base import ChannelKind
from channels.outbox import OutboxChannel
from domain.catalog import load_catalog
from store.db import create_engine, create_schema, session_factory
from workflows.incident import IncidentWorkflow


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address, namespace=settings.temporal_namespace, data_converter=pydantic_data_converter
    )


def build_activities(settings: Settings, sessions) -> IncidentActivities:
    outbox = OutboxChannel(sessions)
    return IncidentActivities(
        sessions=sessions,
        roster=RosterSource(settings.playbooks_dir),
        channels={ChannelKind.SMS: outbox, ChannelKind.EMAIL: outbox, ChannelKind.PUBLIC: outbox},
        incident_url=settings.incident_page_url,
    )


def build_worker(client: Client, settings: Settings, activities: IncidentActivities) -> Worker:
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[IncidentWorkflow],
        activities=[activities.notify, activities.publish, activities.render, activities.record],
    )


async def run_worker(settings: Settings) -> None:
    """Standalone worker (``crisis worker``): refuses to start on an invalid playbooks folder."""
    load_catalog(settings.playbooks_dir)
    engine = create_engine(settings.database_url)
    await create_schema(engine)
    client = await connect(settings)
    worker = build_worker(client, settings, build_activities(settings, session_factory(engine)))
    try:
        await worker.run()
    finally:
        await engine.dispose()
