"""The Temporal dev server stopped mid-escalation and started again on the same data, while the
worker and the API keep running: the API says 503 meanwhile, the level-2 timer that fell due
during the outage fires, and the incident carries on."""

import time

import pytest

from tests.e2e.stack import until
from tests.resilience.helpers import DECLARATION, WAIT, assert_no_sms_twice, caught_up, paged, paging_stack, settled, sqlite_url

pytestmark = pytest.mark.e2e


def test_incidents_continue_after_the_temporal_server_restarts(tmp_path, quick_playbooks, providers):
    stack = paging_stack(tmp_path / "data", providers, quick_playbooks)
    database = sqlite_url(stack)
    stack.start()
    try:
        with stack.client() as http:
            incident = http.post("/incidents", json=DECLARATION).json()["id"]
            until(lambda: paged(http, incident, "ewa.lewandowska"), what="level 1 paged")
            until(lambda: caught_up(database, http, incident), what="the read model caught up")

            stack.stop_temporal()
            down_at = time.monotonic()
            refused = http.post("/incidents", json=DECLARATION)
            assert refused.status_code == 503 and "Temporal did not answer" in refused.json()["detail"]
            assert http.get(f"/incidents/{incident}").status_code == 503
            assert http.get("/readyz").json()["checks"]["temporal"].startswith("unavailable")
            time.sleep(max(0.0, WAIT + 1 - (time.monotonic() - down_at)))  # the level-2 timer falls due while the server is down
            assert not providers.sms_to("james.whitfield")
            stack.start_temporal()

            until(lambda: providers.sms_to("james.whitfield"), seconds=60, what="level 2 paged after the restart")
            assert stack.worker.poll() is None and stack.api.poll() is None, "the worker and the API ride out the outage"
            acknowledged = http.post(f"/incidents/{incident}/acknowledge", json={"person": "james.whitfield"})
            assert acknowledged.status_code == 200 and acknowledged.json()["phase"] == "assess", acknowledged.text
            until(lambda: any("took it" in body for body in providers.sms_to("ewa.lewandowska")), what="level 1 told who took it")
            model = settled(database, http, incident, providers)
        assert_no_sms_twice(providers, model)
        assert [kind for _, kind, _ in model.timeline].count("paged") == 2
    finally:
        assert stack.stop() == 0
