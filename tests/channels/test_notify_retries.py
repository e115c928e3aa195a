"""The notify activity run by a real Temporal worker (time-skipping server): Temporal's retries
with backoff meet the ledger, and a permanent refusal stops the retries."""

import uuid
from datetime import timedelta

import pytest
from temporalio import workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import Worker

from channels.base import Delivery
from domain.messages import Notice
from store import tokens
from tests.channels.conftest import EWA, INVALID_NUMBER, make_activities, set_contact


@workflow.defn(sandboxed=False)
class NotifyOnce:
    """The way IncidentWorkflow calls notify: an explicit activity id and a retry policy."""

    @workflow.run
    async def run(self, notice: Notice) -> list[Delivery]:
        return await workflow.execute_activity(
            "notify",
            notice,
            activity_id="page.incident_commander.0.0",
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100), backoff_coefficient=2, maximum_attempts=6),
            result_type=list[Delivery],
        )


def page() -> Notice:
    return Notice(
        incident_id="inc-t",
        person=EWA,
        kind="page",
        subject="SEV2 crisis: test",
        body="You are paged.",
        sms="SEV2 crisis: test. You are paged.",
    )


async def run(env, activities, notice: Notice):
    queue = f"notify-{uuid.uuid4().hex[:8]}"
    async with Worker(env.client, task_queue=queue, workflows=[NotifyOnce], activities=[activities.notify]):
        return await env.client.execute_workflow(NotifyOnce.run, notice, id=f"inc-{uuid.uuid4().hex[:8]}", task_queue=queue)


async def test_provider_errors_are_retried_with_backoff_and_sent_once(
    time_skipping_env, settings, sessions, roster_dir, fake_twilio, fake_sendgrid
):
    fake_twilio.fail(times=2, status=503)
    fake_sendgrid.fail(times=1, status=429)
    deliveries = await run(time_skipping_env, make_activities(settings, sessions, roster_dir), page())

    assert [d.accepted for d in deliveries] == [True, True]
    assert len(fake_twilio.requests) == 3 and len(fake_twilio.accepted) == 1
    assert len(fake_sendgrid.requests) == 2 and len(fake_sendgrid.accepted) == 1


async def test_a_person_no_channel_can_reach_fails_without_retries(
    time_skipping_env, settings, sessions, roster_dir, fake_twilio, fake_sendgrid
):
    set_contact(roster_dir, EWA, phone=INVALID_NUMBER, email="ewa@invalid.example")
    with pytest.raises(WorkflowFailureError) as failure:
        await run(time_skipping_env, make_activities(settings, sessions, roster_dir), page())

    cause = failure.value.cause
    assert isinstance(cause, ActivityError) and isinstance(cause.cause, ApplicationError)
    assert cause.cause.non_retryable and cause.cause.type == "PermanentDeliveryError"
    assert len(fake_twilio.requests) == 1 and len(fake_sendgrid.requests) == 1  # one attempt only


async def test_a_retry_keeps_the_link_already_sent_by_sms(
    time_skipping_env, settings, sessions, roster_dir, fake_twilio, fake_sendgrid
):
    fake_sendgrid.fail(times=2, status=503)
    await run(time_skipping_env, make_activities(settings, sessions, roster_dir), page())

    [sms] = fake_twilio.accepted
    link = sms.form["Body"].split(" ")[-1]
    token = link.rsplit("/a/", 1)[1]
    async with sessions() as session:
        row = await tokens.find(session, token)
    assert row is not None and row.ledger_key.endswith("/sms") and row.used_at is None
    [email] = fake_sendgrid.accepted
    assert token not in str(email.json), "each channel carries its own link"
