"""The benchmarks. Each drives the real stack over HTTP (as a person or a client would) and sees a
page "accepted by the provider" through :mod:`bench.pages`."""

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from temporalio.client import Client

from bench.breakdown import Sample
from bench.floor import Floor
from bench.pages import Pages, ProviderPages
from bench.stack import HEADERS, BenchStack, Satellite
from tests.driver import next_step

PLAYBOOK = "technical_outage"
COMMANDER_ROLE = "incident_commander"  # technical_outage's identify.commander
# SEV4: the longest acknowledge deadline (30 minutes), so no escalation timer fires during a run
# and every incident stays open, waiting on its timers.
SEVERITY = "SEV4"
MB = 1024 * 1024
# How long the memory runs wait for every page: 10,030 for 1,000 five-role incidents took longer than
# 900 s on this machine at a load average of 17 to 23 (9,070 sent by then).
MEMORY_PAGING_S = 1800


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
    load_declarations: int  # declared as fast as ``load_concurrency`` clients can
    load_concurrency: int
    mentions: int = 100_000  # ingested for the mentions-per-second figure
    calm_minutes: int = 30  # calm chatter before the replayed spike (the baseline needs 10 buckets)
    replay_speedup: float = 60.0  # the spike's stream replayed this many times faster than real time
    history_replays: int = 10  # replays of a long incident's run, each by a new Replayer (bench/replay.py)
    memory_wakeups: int = 20  # incidents read after a memory run: as many of the first declared and of the last


FULL = Sizes(
    latency_samples=100,
    warmup=5,
    gap_s=0.15,
    approval_incidents=30,
    fanout_people=1000,
    fanout_runs=3,
    memory_incidents=1000,
    memory_warmup=3,
    idle_window_s=1.0,
    load_declarations=500,
    load_concurrency=16,
)
QUICK = Sizes(
    latency_samples=5,
    warmup=1,
    gap_s=0.05,
    approval_incidents=1,
    fanout_people=20,
    fanout_runs=1,
    memory_incidents=10,
    memory_warmup=1,
    idle_window_s=0.3,
    load_declarations=20,
    load_concurrency=4,
    mentions=5_000,
    calm_minutes=12,
    replay_speedup=600.0,
    history_replays=2,
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


async def reach_approval(
    api: httpx.AsyncClient, incident: str, commander_role: str = COMMANDER_ROLE, timeout: float = 120
) -> dict:
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


@dataclass
class ApprovalResult:
    decisions: list[Sample]
    floor: list[Sample]  # a bare Update's round trip, one before each decision

    @property
    def decisions_ms(self) -> list[float]:
        return ms(self.decisions)

    @property
    def floor_ms(self) -> list[float]:
        return ms(self.floor)


async def approval(api: httpx.AsyncClient, floor: Floor, sizes: Sizes) -> ApprovalResult:
    """``POST /incidents/{id}/statements/{version}/decision`` → its answer (the Update's result and
    the incident as it then stands), for every approver role of every prepared incident; before
    each, one bare Update's round trip (the floor), with the same spacing, so both see the same server."""

    async def prepare(index: int) -> str:
        incident = await declare(api, f"Approval benchmark {index}")
        await reach_approval(api, incident)
        return incident

    incidents = await gather_limited([lambda i=i: prepare(i) for i in range(sizes.warmup + sizes.approval_incidents)], limit=4)
    result = ApprovalResult([], [])
    for index, incident in enumerate(incidents):
        while True:
            state = (await api.get(f"/incidents/{incident}")).raise_for_status().json()
            items = _approvals(state)
            if not items:
                break
            floor_sample = await floor.update_sample()
            await asyncio.sleep(sizes.gap_s)
            item = items[0]
            body = {"person": item["people"][0], "decision": "approve"}
            sent = time.time()
            response = await api.post(f"/incidents/{incident}/statements/{item['version']}/decision", json=body)
            answered = time.time()
            if response.status_code != 200:
                raise RuntimeError(f"{incident}: decision answered {response.status_code}: {response.text}")
            if index >= sizes.warmup:
                result.decisions.append(Sample(incident, sent, answered))
                result.floor.append(floor_sample)
            await asyncio.sleep(sizes.gap_s)
    return result


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
    delay_ms: float  # how long the fakes took to answer each call
    workers: int  # worker processes on the satellite's task queue
    all_sent_ms: list[float]
    first_page_ms: list[float]
    worker_cpu_s: list[float]  # CPU the satellite's workers used in each run, declaration to idle
    server_cpu_s: list[float]  # … and the Temporal server (with crisis dev's own process)
    stalled: list[str] = field(default_factory=list)  # runs whose calls did not all arrive within FANOUT_STALLED_S


@dataclass
class FanoutComparison:
    """The same fan-out on one worker process and on two, their runs alternating in one bench run."""

    one: FanoutResult
    two: FanoutResult


async def _fanout_warm_up(satellite: Satellite, providers: ProviderPages, sizes: Sizes) -> None:
    """Ordinary incidents warm each worker up (imports, connections, the sandbox): one per worker, so
    that every worker process has run activities and, likely, a workflow."""
    async with httpx.AsyncClient(base_url=satellite.url, timeout=60, headers=HEADERS) as api:
        providers.reset()
        for index in range(satellite.workers):
            await declare(api, f"Fan-out warm-up {index}")
        await providers.wait_accepted(satellite.workers, timeout=120)
    await wait_idle(satellite, sizes.idle_window_s)


# A run not done by then has stalled (see bench/findings.md: a workflow task failed as a deadlock and
# a run the worker cannot evict): it is reported, and that satellite gets no more runs.
FANOUT_STALLED_S = 300.0


async def _fanout_run(
    satellite: Satellite,
    server: BenchStack,
    providers: ProviderPages,
    playbook: str,
    sizes: Sizes,
    phones: set[str],
    emails: set[str],
    result: FanoutResult,
) -> None:
    async with httpx.AsyncClient(base_url=satellite.url, timeout=60, headers=HEADERS) as api:
        providers.reset()
        cpu = satellite.worker_cpu_seconds(), server.cpu_seconds()
        started = time.time()
        incident = await declare(api, f"Fan-out benchmark {len(result.all_sent_ms)}", playbook)
        try:
            accepted = await providers.wait_accepted(result.sends, timeout=FANOUT_STALLED_S)
        except TimeoutError as stalled:
            result.stalled.append(str(stalled))
            return
        await wait_idle(satellite, sizes.idle_window_s)
    result.worker_cpu_s.append(satellite.worker_cpu_seconds() - cpu[0])
    result.server_cpu_s.append(server.cpu_seconds() - cpu[1])
    providers.check_one_each(incident, phones, emails)
    result.first_page_ms.append((accepted.first - started) * 1000)
    result.all_sent_ms.append((accepted.last - started) * 1000)


async def fanout(
    satellites: list[Satellite],
    server: BenchStack,
    providers: ProviderPages,
    playbook: str,
    sizes: Sizes,
    phones: set[str],
    emails: set[str],
) -> list[FanoutResult]:
    """Declare → every person of a ``fanout_people`` team has been paged on SMS and email: all
    2 × ``fanout_people`` calls to the Twilio and SendGrid fakes accepted, each after their delay.
    Each satellite (one per worker count) gets ``fanout_runs`` runs, in turns, so that they share
    the machine's background alike; one runs at a time, the others idle."""
    sends = len(phones) + len(emails)
    results = [FanoutResult(sizes.fanout_people, sends, providers.delay_s * 1000, s.workers, [], [], [], []) for s in satellites]
    for satellite in satellites:
        await _fanout_warm_up(satellite, providers, sizes)
    for _ in range(sizes.fanout_runs):
        for satellite, result in zip(satellites, results):
            if result.stalled:
                continue
            await _fanout_run(satellite, server, providers, playbook, sizes, phones, emails, result)
    return results


# ---- memory ----------------------------------------------------------------------------------


@dataclass
class MemoryResult:
    playbook: str
    roles_paged: int
    incidents: int
    baseline_bytes: int
    after_bytes: int
    declare_s: float
    settle_s: float
    worker_cpu_s: float  # CPU the worker used from the first declaration to idle
    cache: "CacheResult | None" = None

    @property
    def worker_cpu_ms_per_incident(self) -> float:
        return self.worker_cpu_s * 1000 / self.incidents

    @property
    def per_incident_bytes(self) -> float:
        return (self.after_bytes - self.baseline_bytes) / self.incidents


@dataclass
class CacheResult:
    """The worker's sticky cache over a memory run, from its SDK metrics (``CRISIS_WORKER_METRICS_BIND``),
    and what reading an incident costs once it has been evicted, against one still cached."""

    size_limit: int  # CRISIS_WORKER_MAX_CACHED_WORKFLOWS
    size: int  # runs cached once the run is over
    tasks: int  # the SDK's count of workflow task activations over the run
    hits: int  # the SDK's count of cache hits over the run (it counts no misses)
    evictions: int  # runs pushed out to make room, over the run
    read_evictions: int  # ... over the reads below
    evicted_read_ms: list[float]  # GET /incidents/{id} of the first incidents declared (evicted if the cache is full)
    cached_read_ms: list[float]  # ... of the last ones declared (still cached)
    failed_reads: list[int]  # the status of each read not answered 200
    trims: int = 0  # the worker's malloc_trim(0) calls over the run, once idle (glibc, services/allocator.py)
    trimmed_bytes: int = 0  # ... the resident memory they gave back
    trim_cpu_ms: float = 0.0  # ... and their CPU time


# The SDK core's counters (temporalio 1.35); it has no miss counter, and evictions are the telling one.
WORKER_METRICS = {
    "tasks": "temporal_workflow_task_execution_latency_count",
    "hits": "temporal_sticky_cache_hit",
    "size": "temporal_sticky_cache_size",
    "evictions": "temporal_sticky_cache_total_forced_eviction",
    "trims": "crisis_worker_malloc_trims",
    "trimmed_bytes": "crisis_worker_malloc_trimmed_bytes",
    "trim_cpu_ms": "crisis_worker_malloc_trim_cpu_sum",
}


def metric_sum(text: str, name: str) -> float:
    """The sum over label sets of a Prometheus sample ``name`` (counter, gauge, or a histogram's _sum/_count)."""
    return sum(float(value) for value in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.MULTILINE))


def cache_counts(text: str) -> dict[str, float]:
    return {field: metric_sum(text, name) for field, name in WORKER_METRICS.items()}


async def timed_reads(api: httpx.AsyncClient, incidents: list[str]) -> tuple[list[float], list[int]]:
    """``GET /incidents/{id}`` (a query to the workflow) of each, one after the other: the answered
    reads' times in ms, and the status of each read not answered 200 (a 503 when the worker did not
    answer the query in time, on a loaded machine)."""
    times, failed = [], []
    for incident in incidents:
        began = time.perf_counter()
        response = await api.get(f"/incidents/{incident}")
        if response.status_code == 200:
            times.append((time.perf_counter() - began) * 1000)
        else:
            failed.append(response.status_code)
    return times, failed


# The worker gives freed memory back once it has been idle for CRISIS_WORKER_MALLOC_TRIM_S (2 s by
# default, services/allocator.py), so its RSS at rest is read after a quiet window longer than that.
MEMORY_AT_REST_S = 3.0


async def memory(satellite: Satellite, pages: Pages, playbook: str, roles_paged: int, sizes: Sizes) -> MemoryResult:
    """Worker RSS once ``memory_incidents`` incidents of ``playbook`` are open, paged (each of its
    ``roles_paged`` roles by SMS and email) and waiting on their acknowledge deadlines (timers),
    against the same worker's RSS before them, each read with the worker at rest."""
    pages_per_incident = 2 * roles_paged
    warmup = sizes.memory_warmup
    at_rest_s = max(sizes.idle_window_s, MEMORY_AT_REST_S)
    async with httpx.AsyncClient(base_url=satellite.url, timeout=60, headers=HEADERS) as api:
        for index in range(warmup):
            incident = await declare(api, f"Memory warm-up {index}", playbook)
            await pages.wait_sends(incident, pages_per_incident, timeout=120, poll_s=0.01)
        await wait_idle(satellite, at_rest_s)
        baseline = satellite.worker_rss()
        cpu_before = satellite.worker_cpu_seconds()
        counts_before = cache_counts(await satellite.worker_metrics()) if satellite.metrics_bind else None
        began = time.monotonic()
        incidents = await gather_limited(
            [lambda i=i: declare(api, f"Memory benchmark {i}", playbook) for i in range(sizes.memory_incidents)], limit=8
        )
        declared = time.monotonic()
        expected = (warmup + sizes.memory_incidents) * pages_per_incident
        deadline = declared + MEMORY_PAGING_S
        while pages.count("page") < expected:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{pages.count('page')} of {expected} pages after {MEMORY_PAGING_S} s")
            await asyncio.sleep(0.2)
        await wait_idle(satellite, at_rest_s)
        settled = time.monotonic()
        result = MemoryResult(
            playbook=playbook,
            roles_paged=roles_paged,
            incidents=sizes.memory_incidents,
            baseline_bytes=baseline,
            after_bytes=satellite.worker_rss(),
            declare_s=declared - began,
            settle_s=settled - began,
            worker_cpu_s=satellite.worker_cpu_seconds() - cpu_before,
        )
        if counts_before is not None:  # after the RSS: the reads below bring evicted incidents back
            paged = cache_counts(await satellite.worker_metrics())
            sample = max(1, min(sizes.memory_wakeups, len(incidents) // 2))
            cached_reads, cached_failed = await timed_reads(api, incidents[-sample:])  # first: reading evicted ones evicts others
            evicted_reads, evicted_failed = await timed_reads(api, incidents[:sample])
            after_reads = cache_counts(await satellite.worker_metrics())
            result.cache = CacheResult(
                size_limit=satellite.max_cached_workflows,
                size=int(paged["size"]),
                tasks=int(paged["tasks"] - counts_before["tasks"]),
                hits=int(paged["hits"] - counts_before["hits"]),
                evictions=int(paged["evictions"] - counts_before["evictions"]),
                read_evictions=int(after_reads["evictions"] - paged["evictions"]),
                evicted_read_ms=evicted_reads,
                cached_read_ms=cached_reads,
                failed_reads=cached_failed + evicted_failed,
                trims=int(paged["trims"] - counts_before["trims"]),
                trimmed_bytes=int(paged["trimmed_bytes"] - counts_before["trimmed_bytes"]),
                trim_cpu_ms=paged["trim_cpu_ms"] - counts_before["trim_cpu_ms"],
            )
        return result


# ---- load ------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    declarations: int
    concurrency: int
    declare_ms: list[float]  # of the declarations answered 201
    statuses: dict[int, int]  # HTTP status (0: no answer) → how many
    declare_s: float  # first request sent → last answer
    running: int  # of the declared incidents, workflows running in Temporal
    in_read_model: int  # of the declared incidents, rows in the read model
    catch_up_s: float  # last answer → the read model held every declared incident (or gave up)
    api_cpu_s: float  # CPU the satellite's API and worker and the Temporal server used while the declarations were answered
    worker_cpu_s: float
    temporal_cpu_s: float

    @property
    def created(self) -> int:
        return self.statuses.get(201, 0)

    @property
    def per_second(self) -> float:
        return self.declarations / self.declare_s


async def load(
    satellite: Satellite,
    temporal: Client,
    temporal_cpu: Callable[[], float],
    playbook: str,
    sizes: Sizes,
    catch_up_timeout_s: float = 300,
) -> LoadResult:
    """``load_declarations`` declarations from ``load_concurrency`` loopback clients at once, as
    fast as they are answered; then how many of them run in Temporal and are in the read model."""
    statuses: dict[int, int] = {}
    declared: list[str] = []
    latencies: list[float] = []

    limits = httpx.Limits(max_connections=sizes.load_concurrency)
    async with httpx.AsyncClient(base_url=satellite.url, timeout=60, headers=HEADERS, limits=limits) as api:

        async def one(index: int) -> None:
            began = time.perf_counter()
            try:
                response = await api.post("/incidents", json=declaration(f"Load benchmark {index}", playbook))
            except httpx.HTTPError:
                statuses[0] = statuses.get(0, 0) + 1
                return
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code == 201:
                latencies.append((time.perf_counter() - began) * 1000)
                declared.append(response.json()["id"])

        await declare(api, "Load warm-up", playbook)
        cpu_before = satellite.api_cpu_seconds(), satellite.worker_cpu_seconds(), temporal_cpu()
        began = time.monotonic()
        await gather_limited([lambda i=i: one(i) for i in range(sizes.load_declarations)], limit=sizes.load_concurrency)
        answered = time.monotonic()
        cpu_used = (
            satellite.api_cpu_seconds() - cpu_before[0],
            satellite.worker_cpu_seconds() - cpu_before[1],
            temporal_cpu() - cpu_before[2],
        )

        wanted = set(declared)
        deadline = answered + catch_up_timeout_s
        while True:
            listed = (await api.get("/incidents", params={"limit": 1000})).raise_for_status().json()
            in_read_model = len(wanted & {row["id"] for row in listed})
            if in_read_model == len(wanted) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        caught_up = time.monotonic()

    running_ids: set[str] = set()
    visible_by = time.monotonic() + 30  # Temporal's visibility store trails the workflows a little
    while not wanted <= running_ids and time.monotonic() < visible_by:
        query = f'TaskQueue="{satellite.task_queue}" AND ExecutionStatus="Running"'
        running_ids = {execution.id async for execution in temporal.list_workflows(query)}
        if not wanted <= running_ids:
            await asyncio.sleep(0.5)
    return LoadResult(
        declarations=sizes.load_declarations,
        concurrency=sizes.load_concurrency,
        declare_ms=latencies,
        statuses=statuses,
        declare_s=answered - began,
        running=len(wanted & running_ids),
        in_read_model=in_read_model,
        catch_up_s=caught_up - answered,
        api_cpu_s=cpu_used[0],
        worker_cpu_s=cpu_used[1],
        temporal_cpu_s=cpu_used[2],
    )
