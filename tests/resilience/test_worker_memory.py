"""glibc's malloc in a running ``crisis worker`` (services/allocator.py): at most
``CRISIS_WORKER_MALLOC_ARENAS`` arenas whatever its threads, and the freed memory given back to the
system once it goes idle after work, counted in its SDK metrics. Read from the worker's process
(its memory map and its /metrics), not from the code that sets them."""

import httpx
import pytest

from services.allocator import glibc
from tests.e2e.stack import free_port, until
from tests.malloc_heaps import arena_heaps
from tests.resilience.helpers import DECLARATION, metric, paged, paging_stack

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(glibc() is None, reason="glibc's malloc only: mallopt and malloc_trim are not called elsewhere"),
]


def test_a_worker_keeps_two_arenas_and_gives_memory_back_once_idle(tmp_path, quick_playbooks, providers):
    metrics_port = free_port()
    stack = paging_stack(
        tmp_path / "data",
        providers,
        quick_playbooks,
        CRISIS_WORKER_METRICS_BIND=f"127.0.0.1:{metrics_port}",
        CRISIS_WORKER_MALLOC_TRIM_S="0.5",
    )

    def trims() -> float:
        return metric(httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text, "crisis_worker_malloc_trims")

    try:
        stack.start(timeout=240)  # a ceiling for a loaded machine
        with stack.client() as http:
            before = until(lambda: trims() or None, seconds=60, what="the idle worker's first trim")  # after its start
            incidents = [
                http.post("/incidents", json={**DECLARATION, "title": f"Checkout down {n}"}).raise_for_status().json()["id"]
                for n in range(3)
            ]
            for incident in incidents:
                until(lambda incident=incident: paged(http, incident, "ewa.lewandowska"), what=f"{incident} paged")
            until(lambda: trims() > before, seconds=60, what="a trim once the pages are out")
        # The SDK core's threads, the activity pool and the providers' SDKs (Twilio's and SendGrid's,
        # in threads) all allocated: still one arena besides the main one (CRISIS_WORKER_MALLOC_ARENAS is 2).
        assert arena_heaps(stack.worker.pid) == 1
    finally:
        assert stack.stop() == 0
