"""The benchmarks. Each drives the real stack over HTTP (as a person or a client would) and sees a
page "accepted by the provider" through :mod:`bench.pages`."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from bench.breakdown import Sample
from bench.floor import Floor
from bench.pages import Pages
from bench.stack import Satellite
from tests.driver import next_step

PLAYBOOK = "technical_outage"
COMMANDER_ROLE = "incident_commander"  # technical_outage's identify.commander
# SEV4: the longest acknowledge deadline (30 minutes), so no escalation timer fires during a run
# and every incident stays open, waiting on its timers.
SEVERITY = "SEV4"
MB = 1024 * 1024


@dataclass(frozen=True)
class Sizes:
    latency_samples: int  # declarations timed (and as many floor runs, interleaved)
    warmup: int  # untimed rounds first (imports, caches, first connections)
    gap_s: float  # pause between samples: starts are spaced, never back to back
    approval_incidents: int  # each gives one decision per approver role
    fanout_people: int
    fanout_runs: int
    memory_incidents: int
    memory_warmup: int
    idle_window_s: float  # the worker counts as idle after this long with (almost) no CPU used
    mentions: int = 100_000  # ingested for the mentions-per-second figure
    calm_minutes: int = 30  # calm chatter before the replayed spike (the baseline needs 10 buckets)
    replay_speedup: float = 60.0  # the spike's stream replayed this many times faster than real time


FULL = Sizes(
    latency_samples=100, warmup=5, gap_s=0.15, approval_incidents=30, fanout_people=200, fanout_runs=3,
    memory_incidents=1000, memory_warmup=3, idle_window_s=1.0,
)
QUICK = Sizes(
    latency_samples=5, warmup=1, gap_s=0.05, approval_incidents=1, fanout_people=20, fanout_runs=1,
    memory_incidents=10, memory_warmup=1, idle_window_s=0.3, mentions=5_000, calm_minutes=12, replay_speedup=600.0,
)


def declaration(title: str, playbook: str = PLAYBOOK) -> dict:
    return {"playbook": playbook, "title": title, "summary": "Benchmark incident: nothing is wrong.", "severity": SEVERITY}


async def declare(api: httpx.AsyncClient, title: str, playbook: str = PLAYBOOK) -> str:
    response = await api.post("/incidents", json=declaration(title, playbook))
    if response.status_code != 201:
        raise RuntimeError(f"POST /incidents answered {response.status_code}: {response.text}")
    return response.json()["id"]


# ---- declare, declare → first page, and the floor --------------------------------------------


def ms(samples: list[Sample]) -> list[float]:
    return [(sample.done - sample.sent) * 1000 for sample in samples]


@dataclass
class LatencyResult:
    declare_ms: list[float]
    first_page: list[Sample]
    floor: list[Sample]

    @property
    def first_page_ms(self) -> list[float]:
        return ms(self.first_page)

    @property
    def floor_ms(self) -> list[float]:
        return ms(self.floor)


async def latency(api: httpx.AsyncClient, pages: Pages, floor: Floor, pages_per_incident: int, sizes: Sizes) -> LatencyResult:
    """Floor runs and declarations alternate, one at a time with a pause between, so both see the
    same server (same history size, same background) and neither is measured back to back."""
    result = LatencyResult([], [], [])
    for round_ in range(sizes.warmup + sizes.latency_samples):
        timed = round_ >= sizes.warmup
        floor_sample = await floor.sample()
        await asyncio.sleep(sizes.gap_s)

        started = time.time()
        began = time.perf_counter()
        response = await api.post("/incidents", json=declaration(f"Latency benchmark {round_}"))
        declare_ms = (time.perf_counter() - began) * 1000
        if response.status_code != 201:
            raise RuntimeError(f"POST /incidents answered {response.status_code}: {response.text}")
        incident = response.json()["id"]
        first_page = Sample(incident, started, await pages.wait_first_page(incident))
        # Let the incident finish its first round of pages before the next start.
        await pages.wait_sends(incident, pages_per_incident, poll_s=0.01)
        await asyncio.sleep(sizes.gap_s)
        if timed:
            result.floor.append(floor_sample)
            result.declare_ms.append(declare_ms)
            result.first_page.append(first_page)
    return result


# ---- approval --------------------------------------------------------------------------------


def _approvals(state: dict) -> list[dict]:
    return [item for item in state["pending"] if item["kind"] == "approval"]


async def reach_approval(api: httpx.AsyncClient, incident: str, commander_role: str = COMMANDER_ROLE, timeout: float = 120) -> dict:
    """Act as the crisis team would (``tests/driver.py``) until a statement waits for approval.
    Only the commander acknowledges (the other roles' pages change nothing on the way there)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = (await api.get(f"/incidents/{incident}")).raise_for_status().json()
        if _approvals(state):
            return state
        wanted = [item for item in state["pending"] if item["kind"] != "acknowledge" or item.get("role") == commander_role]
        step = next_step({**state, "pending": wanted})
        if step is None:
            await asyncio.sleep(0.05)
            continue
        response = await api.post(f"/incidents/{incident}/{step.path}", json=step.body)
        if response.status_code != 200:
            raise RuntimeError(f"{incident}: {step.update} answered {response.status_code}: {response.text}")
    raise TimeoutError(f"{incident} did not reach approval within {timeout} s")


async def gather_limited(jobs: list[Callable[[], Awaitable]], limit: int) -> list:
    semaphore = asyncio.Semaphore(limit)

    async def run(job):
        async with semaphore:
            return await job()

    return await asyncio.gather(*(run(job) for job in jobs))


async def approval(api: httpx.AsyncClient, sizes: Sizes) -> list[Sample]:
    """``POST /incidents/{id}/statements/{version}/decision`` → its answer (the Update's result and
    the incident as it then stands), for every approver role of every prepared incident."""

    async def prepare(index: int) -> str:
        incident = await declare(api, f"Approval benchmark {index}")
        await reach_approval(api, incident)
        return incident

    incidents = await gather_limited([lambda i=i: prepare(i) for i in range(sizes.warmup + sizes.approval_incidents)], limit=4)
    samples: list[Sample] = []
    for index, incident in enumerate(incidents):
        while True:
            state = (await api.get(f"/incidents/{incident}")).raise_for_status().json()
            items = _approvals(state)
            if not items:
                break
            item = items[0]
            body = {"person": item["people"][0], "decision": "approve"}
            sent = time.time()
            response = await api.post(f"/incidents/{incident}/statements/{item['version']}/decision", json=body)
            answered = time.time()
            if response.status_code != 200:
                raise RuntimeError(f"{incident}: decision answered {response.status_code}: {response.text}")
            if index >= sizes.warmup:
                samples.append(Sample(incident, sent, answered))
            await asyncio.sleep(sizes.gap_s)
    return samples


# ---- fan-out ---------------------------------------------------------------------------------


async def wait_idle(satellite: Satellite, window_s: float, timeout: float = 600) -> None:
    """Until the satellite worker uses (almost) no CPU, under 2 %, for a whole window: its backlog is done."""
    quiet_cpu_s = 0.02 * window_s
    deadline = time.monotonic() + timeout
    before = satellite.worker_cpu_seconds()
    while time.monotonic() < deadline:
        await asyncio.sleep(window_s)
        now = satellite.worker_cpu_seconds()
        if now - before < quiet_cpu_s:
            return
        before = now
    raise TimeoutError(f"the {satellite.name} worker was still busy after {timeout} s")


@dataclass
class FanoutResult:
    people: int
    sends: int
    all_sent_ms: list[float]
    first_page_ms: list[float]


async def fanout(satellite: Satellite, pages: Pages, playbook: str, sizes: Sizes) -> FanoutResult:
    """Declare → every person of a ``fanout_people`` team has been paged on SMS and email."""
    sends = 2 * sizes.fanout_people
    result = FanoutResult(sizes.fanout_people, sends, [], [])
    async with httpx.AsyncClient(base_url=satellite.url, timeout=60) as api:
        # A first, ordinary incident warms the worker up (imports, connections, the sandbox).
        await pages.wait_first_page(await declare(api, "Fan-out warm-up"), timeout=120)
        await wait_idle(satellite, sizes.idle_window_s)
        for run in range(sizes.fanout_runs):
            started = time.time()
            incident = await declare(api, f"Fan-out benchmark {run}", playbook)
            first = await pages.wait_first_page(incident, timeout=120)
            done = await pages.wait_sends(incident, sends, timeout=600, poll_s=0.005)
            await wait_idle(satellite, sizes.idle_window_s)
            result.first_page_ms.append((first - started) * 1000)
            result.all_sent_ms.append((done - started) * 1000)
    return result


# ---- memory ----------------------------------------------------------------------------------


@dataclass
class MemoryResult:
    incidents: int
    baseline_bytes: int
    after_bytes: int
    declare_s: float
    settle_s: float
    worker_cpu_s: float  # CPU the worker used from the first declaration to idle

    @property
    def worker_cpu_ms_per_incident(self) -> float:
        return self.worker_cpu_s * 1000 / self.incidents

    @property
    def per_incident_bytes(self) -> float:
        return (self.after_bytes - self.baseline_bytes) / self.incidents


async def memory(satellite: Satellite, pages: Pages, playbook: str, pages_per_incident: int, sizes: Sizes) -> MemoryResult:
    """Worker RSS once ``memory_incidents`` incidents of ``playbook`` are open, paged and waiting on
    their acknowledge deadlines (timers), against the same worker's RSS before them."""
    warmup = sizes.memory_warmup
    async with httpx.AsyncClient(base_url=satellite.url, timeout=60) as api:
        for index in range(warmup):
            incident = await declare(api, f"Memory warm-up {index}", playbook)
            await pages.wait_sends(incident, pages_per_incident, timeout=120, poll_s=0.01)
        await wait_idle(satellite, sizes.idle_window_s)
        baseline = satellite.worker_rss()
        cpu_before = satellite.worker_cpu_seconds()
        began = time.monotonic()
        await gather_limited([lambda i=i: declare(api, f"Memory benchmark {i}", playbook) for i in range(sizes.memory_incidents)], limit=8)
        declared = time.monotonic()
        expected = (warmup + sizes.memory_incidents) * pages_per_incident
        deadline = declared + 900
        while pages.count("page") < expected:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{pages.count('page')} of {expected} pages after 900 s")
            await asyncio.sleep(0.2)
        await wait_idle(satellite, sizes.idle_window_s)
        settled = time.monotonic()
        return MemoryResult(
            incidents=sizes.memory_incidents,
            baseline_bytes=baseline,
            after_bytes=satellite.worker_rss(),
            declare_s=declared - began,
            settle_s=settled - began,
            worker_cpu_s=satellite.worker_cpu_seconds() - cpu_before,
        )
