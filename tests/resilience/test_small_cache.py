"""A worker whose sticky cache holds fewer incidents than are open (``CRISIS_WORKER_MAX_CACHED_WORKFLOWS``,
the memory lever of docs/operations.md): the worker evicts runs and replays them from their history
at their next task, and every incident still runs to closed, each page sent once, each timeline whole."""

import httpx
import pytest

from tests.e2e.stack import free_port, until
from tests.resilience.helpers import (
    DECLARATION,
    ReadModel,
    assert_no_sms_twice,
    caught_up,
    drive_to_closed,
    metric,
    paged,
    paging_stack,
    sqlite_url,
)

pytestmark = pytest.mark.e2e

CACHE = 2
INCIDENTS = 5


def test_incidents_evicted_from_a_small_cache_all_run_to_closed_correctly(tmp_path, quick_playbooks, providers):
    metrics_port = free_port()
    stack = paging_stack(
        tmp_path / "data",
        providers,
        quick_playbooks,
        CRISIS_WORKER_MAX_CACHED_WORKFLOWS=str(CACHE),
        CRISIS_WORKER_METRICS_BIND=f"127.0.0.1:{metrics_port}",
    )
    database = sqlite_url(stack)
    stack.start()
    try:
        with stack.client() as http:
            incidents = [
                http.post("/incidents", json={**DECLARATION, "title": f"Checkout down {n}"}).raise_for_status().json()["id"]
                for n in range(INCIDENTS)
            ]
            for incident in incidents:
                until(lambda incident=incident: paged(http, incident, "ewa.lewandowska"), what=f"{incident} paged")
            # Each incident is driven in turn while the others wait on their escalation timers, so
            # every one of them is pushed out of the cache of two and replayed at its next task.
            finals = {incident: drive_to_closed(http, incident, seconds=240) for incident in incidents}
            models = {
                incident: until(lambda incident=incident: caught_up(database, http, incident), what=f"{incident} projected")
                for incident in incidents
            }
        text = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text

        assert all(final["phase"] == "closed" for final in finals.values())
        for incident, final in finals.items():
            kinds = [event["kind"] for event in final["timeline"]]
            assert kinds.count("declared") == 1 and kinds.count("acknowledged") == 1, kinds
            projected = [seq for seq, _, _ in models[incident].timeline]
            assert projected == list(range(1, len(projected) + 1)) and len(projected) >= len(final["timeline"])
        assert_no_sms_twice(providers, ReadModel([], 0, [row for model in models.values() for row in model.ledger]))
        pages = [body for body in providers.sms_to("ewa.lewandowska") if "Reply ACK" in body]
        assert len(pages) == INCIDENTS  # one page an incident, none sent again by a replay
        assert metric(text, "temporal_sticky_cache_size") <= CACHE
        assert metric(text, "temporal_sticky_cache_total_forced_eviction") >= INCIDENTS - CACHE, text
    finally:
        assert stack.stop() == 0
