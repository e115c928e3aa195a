"""``kill -9`` of the worker between the level-1 and the level-2 page: a new worker takes over,
the escalation carries on, the incident runs to closed, and no SMS goes out twice."""

import pytest

from tests.e2e.stack import until
from tests.resilience.helpers import (
    DECLARATION,
    WAIT,
    assert_no_sms_twice,
    caught_up,
    drive_to_closed,
    paged,
    paging_stack,
    settled,
    sqlite_url,
)

pytestmark = pytest.mark.e2e


def test_a_killed_worker_is_replaced_and_the_incident_completes_without_duplicate_sms(tmp_path, quick_playbooks, providers):
    stack = paging_stack(tmp_path / "data", providers, quick_playbooks)
    database = sqlite_url(stack)
    stack.start()
    try:
        with stack.client() as http:
            incident = http.post("/incidents", json=DECLARATION).json()["id"]
            until(lambda: paged(http, incident, "ewa.lewandowska"), what="level 1 paged")
            until(
                lambda: caught_up(database, http, incident), what="the read model caught up"
            )  # the worker is idle, on the timer

            stack.kill_worker()
            stack.start_worker()

            until(lambda: providers.sms_to("james.whitfield"), seconds=WAIT + 60, what="level 2 paged by the new worker")
            acknowledged = http.post(f"/incidents/{incident}/acknowledge", json={"person": "james.whitfield"})
            assert acknowledged.status_code == 200, acknowledged.text
            final = drive_to_closed(http, incident)
            assert final["phase"] == "closed"
            model = settled(database, http, incident, providers)

        assert len(providers.sms_to("ewa.lewandowska")) == 2  # the page, then "james.whitfield took it"
        assert "james.whitfield took it" in providers.sms_to("ewa.lewandowska")[1]
        assert len([body for body in providers.sms_to("james.whitfield") if "Reply ACK" in body]) == 1
        assert_no_sms_twice(providers, model)
        # Every event projected once and in order, as the read model held them once it had caught up
        # with the workflow: a notice can still add an event after the state that read "closed".
        assert [seq for seq, _, _ in model.timeline] == list(range(1, len(model.timeline) + 1))
    finally:
        assert stack.stop() == 0
