"""Two ``crisis worker`` processes on one task queue (issue 22 #4): a fan-out's sends are shared
between them (30 people: three activities of ten pages, ``lean-fanout-batch-pages``), and one of
them stopping in the middle of it (SIGTERM, as when scaling down or deploying) leaves nobody
unpaged and nobody paged twice: the other worker takes what is left, and the ledger keeps every
send to one provider call."""

import asyncio
import signal
import time
from collections import Counter

import pytest
from temporalio.client import Client

from bench.playbooks import FANOUT_PLAYBOOK, person_email, person_id, person_phone, write_fanout_playbooks
from tests.conftest import PROJECT
from tests.e2e.stack import until
from tests.fakes.providers import FakeSendGrid, FakeTwilio, Fault
from tests.resilience.helpers import ACCOUNT_SID, AUTH_TOKEN, SENDGRID_KEY, Providers, paging_stack, read_model, sqlite_url

pytestmark = pytest.mark.e2e

PEOPLE = 30
DELAY_S = 0.5  # each provider call: long enough that both workers have sends in flight at once


async def _send_workers(address: str, incident: str) -> Counter:
    """Which worker (its identity, pid@host) started each activity that pages (``page.`` one person,
    ``pages.`` a batch of them), from the workflow's history."""
    client = await Client.connect(address)
    history = await client.get_workflow_handle(incident).fetch_history()
    scheduled = {
        event.event_id: event.activity_task_scheduled_event_attributes.activity_id
        for event in history.events
        if event.HasField("activity_task_scheduled_event_attributes")
    }
    return Counter(
        event.activity_task_started_event_attributes.identity
        for event in history.events
        if event.HasField("activity_task_started_event_attributes")
        and scheduled[event.activity_task_started_event_attributes.scheduled_event_id].startswith(("page.", "pages."))
    )


def test_two_workers_share_a_fan_out_and_one_stopping_midway_pages_nobody_twice(tmp_path):
    playbooks = write_fanout_playbooks(PROJECT / "playbooks", tmp_path / "playbooks", PEOPLE)
    with FakeTwilio(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID) as twilio, FakeSendGrid(api_key=SENDGRID_KEY) as sendgrid:
        for fake in (twilio, sendgrid):
            fake.inject(Fault(delay=DELAY_S, times=10**6))
        people = [person_id(i) for i in range(PEOPLE)]
        providers = Providers(
            twilio,
            sendgrid,
            {person_id(i): person_phone(i) for i in range(PEOPLE)},
            {person_id(i): person_email(i) for i in range(PEOPLE)},
        )
        # Few activity slots each, so that the fan-out takes several rounds and is still going when one stops.
        stack = paging_stack(tmp_path / "data", providers, playbooks, CRISIS_WORKER_MAX_CONCURRENT_ACTIVITIES="2")
        stack.start()
        second = stack.start_another_worker()
        try:
            until(
                lambda: second.poll() is not None or "worker polling task queue" in stack.log_of("worker-2"),
                seconds=120,
                what="the second worker polling",
            )
            assert second.poll() is None, stack.log_of("worker-2")
            with stack.client() as http:
                declared = http.post(
                    "/incidents", json={"playbook": FANOUT_PLAYBOOK, "title": "All hands", "summary": "Test.", "severity": "SEV2"}
                )
                assert declared.status_code == 201, declared.text
                incident = declared.json()["id"]
                until(lambda: len(twilio.accepted) + len(sendgrid.accepted) >= 10, seconds=120, what="the first pages")
                second.send_signal(signal.SIGTERM)  # scaling down mid-fan-out: it finishes what it runs, then exits
                assert len(twilio.accepted) + len(sendgrid.accepted) < 2 * PEOPLE, "the fan-out was over before the stop"
                assert second.wait(timeout=60) == 0, stack.log_of("worker-2")
                until(
                    lambda: len(twilio.accepted) + len(sendgrid.accepted) >= 2 * PEOPLE,
                    seconds=180,
                    what="every person paged by the remaining worker",
                )
                time.sleep(2)  # anything sent twice would arrive now
            for person in people:
                assert len(providers.sms_to(person)) == 1, (person, providers.sms_to(person))
                assert len(providers.emails_to(person)) == 1, (person, providers.emails_to(person))
            sent = [row for row in read_model(sqlite_url(stack), incident).ledger if row.accepted_at is not None]
            keys = Counter(row.ledger_key for row in sent)
            assert len(keys) == 2 * PEOPLE and set(keys.values()) == {1}, keys.most_common(3)
            workers = asyncio.run(_send_workers(stack.temporal_address, incident))
            assert len(workers) == 2, f"the pages' activities were started by {dict(workers)}"
        finally:
            assert stack.stop() == 0
