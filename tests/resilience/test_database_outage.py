"""The read model's PostgreSQL goes away in the middle of an activity (Twilio has just accepted
the level-2 page, the ledger has not yet recorded it) and comes back a few seconds later: the
activities are retried, the page is not sent twice, and the projection catches up with every
timeline event."""

import time

import pytest

from tests.e2e.stack import until
from tests.postgres import PostgresServer
from tests.resilience.helpers import DECLARATION, assert_no_sms_twice, caught_up, paged, paging_stack, settled

pytestmark = pytest.mark.e2e
OUTAGE_S = 4


@pytest.fixture
async def database():
    server = PostgresServer()
    try:
        server.start()
        url = await server.create_database("outage")
        yield server, url
    finally:
        server.stop()


def test_an_outage_of_the_database_mid_send_loses_nothing_and_sends_nothing_twice(tmp_path, quick_playbooks, providers, database):
    server, url = database
    stack = paging_stack(tmp_path / "data", providers, quick_playbooks, DATABASE_URL=url)
    stack.start()
    try:
        with stack.client() as http:
            incident = http.post("/incidents", json=DECLARATION).json()["id"]
            until(lambda: paged(http, incident, "ewa.lewandowska"), what="level 1 paged")
            until(lambda: caught_up(url, http, incident), what="the read model caught up")

            providers.twilio.delay(3)  # Twilio holds the level-2 page, then accepts it
            until(
                lambda: any(r.form.get("To") == providers.phone["james.whitfield"] for r in providers.twilio.requests),
                what="the level-2 page at Twilio",
            )
            server.halt()
            halted_at = time.monotonic()
            until(lambda: providers.sms_to("james.whitfield"), what="Twilio accepted the level-2 page")
            assert http.get("/readyz").json()["checks"]["database"].startswith("unavailable")
            listed = http.get("/incidents")
            assert listed.status_code == 503 and "database did not answer" in listed.json()["detail"], listed.text
            assert http.get(f"/incidents/{incident}").status_code == 200  # the live state comes from Temporal
            time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - halted_at)))
            server.resume()

            until(lambda: paged(http, incident, "james.whitfield"), seconds=60, what="the level-2 page recorded")
            assert http.post(f"/incidents/{incident}/acknowledge", json={"person": "james.whitfield"}).status_code == 200
            until(lambda: any("took it" in body for body in providers.sms_to("ewa.lewandowska")), what="level 1 told who took it")
            model = settled(url, http, incident, providers)

        # The level-2 page the outage held up went out once. The chain did not wait for it: a
        # later round may have paged him again, under its own ledger key.
        held_up = [
            row
            for row in model.ledger
            if row.ledger_key.endswith("/page.incident_commander.0.1/sms") and row.accepted_at is not None
        ]
        assert len(held_up) == 1, held_up
        assert_no_sms_twice(providers, model)
        assert [seq for seq, _, _ in model.timeline] == list(range(1, model.projected_seq + 1))
        assert stack.worker.poll() is None
    finally:
        assert stack.stop() == 0
