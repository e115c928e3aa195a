"""``python -m bench [--quick] [--output PATH] [--only latency|fanout|load|memory|mentions|replay]``: every
benchmark, table and report.

The full run writes docs/BENCHMARKS.md (or ``--output``); ``--quick`` is a smoke run with small
sizes that writes only to ``--output`` when given and judges no target. ``--only latency`` (declare
→ first page and approval, each beside its floor), ``--only fanout``, ``--only load``, ``--only
memory`` (both memory runs), ``--only mentions`` or ``--only replay`` runs that benchmark alone and prints its figures
(no report), for working on it.
"""

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

from bench import cases
from bench.breakdown import approval_breakdown, start_breakdown
from bench.floor import ACTIVITY as FLOOR_ACTIVITY
from bench.floor import Floor
from bench.mentions import MentionsResult, measure_mentions
from bench.pages import OutboxPages, ProviderPages
from bench.playbooks import (
    FANOUT_PLAYBOOK,
    MEMORY_PLAYBOOK,
    MEMORY_ROLES_PLAYBOOK,
    person_email,
    person_phone,
    write_fanout_playbooks,
    write_memory_playbooks,
)
from bench.replay import long_incident_replay
from bench.report import (
    Breakdowns,
    Results,
    fanout_table,
    latency_tables,
    load_table,
    machine,
    markdown,
    memory_table,
    mentions_table,
    now,
    replay_table,
    tables,
)
from bench.stack import HEADERS, BenchStack, Satellite, cpu_seconds
from domain.catalog import load_catalog

PROJECT = Path(__file__).resolve().parent.parent
DOCUMENT = PROJECT / "docs" / "BENCHMARKS.md"
FINDINGS = Path(__file__).resolve().parent / "findings.md"


_T0 = time.monotonic()
PROVIDER_DELAY_S = 0.05  # how long the Twilio and SendGrid fakes take to answer each call


def say(message: str) -> None:
    print(f"[bench {time.monotonic() - _T0:6.1f} s] {message}", file=sys.stderr, flush=True)


class CpuWatch:
    """CPU used by other processes on the machine while the bench ran (it shares the machine)."""

    def __init__(self):
        self._began = time.monotonic()
        self._busy = self._machine_busy()
        self._own = self._own_cpu()
        self.load_at_start = os.getloadavg()[0]

    @staticmethod
    def _machine_busy() -> float:
        times = psutil.cpu_times()
        return (
            sum(times)
            - times.idle
            - getattr(times, "iowait", 0.0)
            - getattr(times, "guest", 0.0)
            - getattr(times, "guest_nice", 0.0)
        )

    @staticmethod
    def _own_cpu() -> float:
        return cpu_seconds(os.getpid())

    def others_share(self) -> float:
        """Share of the whole machine (all cores) that other processes used since the start."""
        elapsed = time.monotonic() - self._began
        others = (self._machine_busy() - self._busy) - (self._own_cpu() - self._own)
        return max(others, 0.0) / (elapsed * (psutil.cpu_count() or 1))


async def run(sizes: cases.Sizes, quick: bool, folder: Path) -> Results:
    started_at, began = now(), time.monotonic()
    watch = CpuWatch()
    playbooks = PROJECT / "playbooks"
    catalog = load_catalog(playbooks)
    pages_per_incident = 2 * len(catalog.playbooks[cases.PLAYBOOK].identify.page)  # the first level, SMS + email
    fanout_playbooks = write_fanout_playbooks(playbooks, folder / "playbooks-fanout", sizes.fanout_people)
    memory_playbooks = write_memory_playbooks(playbooks, folder / "playbooks-memory")

    stack = BenchStack(folder / "dev", playbooks)
    with ProviderPages(PROVIDER_DELAY_S) as providers:
        fanout_sides = fanout_satellites(folder, stack, fanout_playbooks, providers)
        memory_side = Satellite("memory", folder / "memory", stack.temporal_address, memory_playbooks, metrics=True)
        roles_side = Satellite("memory-roles", folder / "memory-roles", stack.temporal_address, memory_playbooks, metrics=True)
        load_side = Satellite("load", folder / "load", stack.temporal_address, memory_playbooks)
        opened: list[OutboxPages] = []
        try:
            say(
                "starting crisis dev (Temporal dev server, worker, API), then crisis api + crisis worker pairs for fan-out,"
                " memory and load"
            )
            stack.launch()
            client = await stack.wait_temporal()
            await asyncio.gather(
                asyncio.to_thread(stack.wait_ready),
                *(satellite.start() for satellite in fanout_sides),
                memory_side.start(),
                roles_side.start(),
                load_side.start(),
            )
            pages = OutboxPages(stack.database)
            opened.append(pages)

            async with httpx.AsyncClient(base_url=stack.url, timeout=60, headers=HEADERS) as api:
                say(f"latency: {sizes.latency_samples} declarations alternating with as many floor runs")
                async with Floor(client) as floor:
                    latency = await cases.latency(api, pages, floor, pages_per_incident, sizes)
                    say(
                        f"approval: {sizes.approval_incidents} incident(s) driven to approval, every decision timed"
                        " after a bare Update's round trip"
                    )
                    approval = await cases.approval(api, floor, sizes)
            say("reading the histories of the timed samples")
            steps = Breakdowns(
                first_page=await start_breakdown(client, latency.first_page, "notify"),
                floor=await start_breakdown(client, latency.floor, FLOOR_ACTIVITY),
                approval=await approval_breakdown(client, approval.decisions),
            )
            fanout = await run_fanout(fanout_sides, stack, providers, sizes)
            memory, memory_roles = await measure_memory(memory_side, roles_side, memory_playbooks, sizes)
            say(f"load: {sizes.load_declarations} declarations, {sizes.load_concurrency} at a time, on the load worker")
            declare_load = await cases.load(load_side, client, stack.temporal_cpu_seconds, MEMORY_PLAYBOOK, sizes)
            say(
                f"mentions: {sizes.mentions:,} ingested in batches of 5,000, then a spike replayed at {sizes.replay_speedup:g} ×"
                " real time"
            )
            mentions = await measure_mentions(stack, sizes.mentions, sizes.calm_minutes, sizes.replay_speedup)
            others = watch.others_share()
            say("done; stopping the stack")
        finally:
            for pages_db in opened:
                pages_db.close()
            for satellite in (*fanout_sides, memory_side, roles_side, load_side):
                satellite.stop()
            stack.stop()
    say(
        "replay: a SEV1 outage on the time-skipping server until it continues as new, then its first run replayed"
        f" {sizes.history_replays} times"
    )
    replay = await long_incident_replay(sizes.history_replays)
    return Results(
        sizes=sizes,
        quick=quick,
        latency=latency,
        approval=approval,
        steps=steps,
        fanout=fanout,
        memory=memory,
        memory_roles=memory_roles,
        declare_load=declare_load,
        mentions=mentions,
        started=started_at,
        seconds=time.monotonic() - began,
        machine=machine(),
        load={"others": others, "load_at_start": watch.load_at_start, "load_at_end": os.getloadavg()[0]},
        replay=replay,
    )


async def run_latency(sizes: cases.Sizes, quick: bool, folder: Path) -> str:
    """Declare → first page and approval alone, each beside its floor, on their own ``crisis dev``: their rows."""
    playbooks = PROJECT / "playbooks"
    pages_per_incident = 2 * len(load_catalog(playbooks).playbooks[cases.PLAYBOOK].identify.page)
    stack = BenchStack(folder / "dev", playbooks)
    pages = None
    try:
        say("starting crisis dev")
        stack.launch()
        client = await stack.wait_temporal()
        await asyncio.to_thread(stack.wait_ready)
        pages = OutboxPages(stack.database)
        async with httpx.AsyncClient(base_url=stack.url, timeout=60, headers=HEADERS) as api, Floor(client) as floor:
            say(f"latency: {sizes.latency_samples} declarations alternating with as many floor runs")
            latency = await cases.latency(api, pages, floor, pages_per_incident, sizes)
            say(f"approval: {sizes.approval_incidents} incident(s) driven to approval, each decision after an Update floor")
            approval = await cases.approval(api, floor, sizes)
        steps = Breakdowns(
            first_page=await start_breakdown(client, latency.first_page, "notify"),
            floor=await start_breakdown(client, latency.floor, FLOOR_ACTIVITY),
            approval=await approval_breakdown(client, approval.decisions),
        )
    finally:
        if pages is not None:
            pages.close()
        stack.stop()
    return latency_tables(latency, approval, steps, quick)


async def measure_memory(
    commander_side: Satellite, roles_side: Satellite, memory_playbooks: Path, sizes: cases.Sizes
) -> tuple[cases.MemoryResult, cases.MemoryResult]:
    """The two memory runs, one after the other, each on its own worker: commander-only incidents,
    then ``technical_outage`` with every role of its identify phase paged."""
    catalog = load_catalog(memory_playbooks)
    results = []
    for side, playbook in ((commander_side, MEMORY_PLAYBOOK), (roles_side, MEMORY_ROLES_PLAYBOOK)):
        roles = len(catalog.playbooks[playbook].identify.page)
        say(f"memory: {sizes.memory_incidents:,} open {playbook} incidents ({roles} role(s) paged) on the {side.name} worker")
        pages = OutboxPages(side.database)
        try:
            results.append(await cases.memory(side, pages, playbook, roles, sizes))
        finally:
            pages.close()
    return results[0], results[1]


async def run_memory(sizes: cases.Sizes, quick: bool, folder: Path) -> str:
    """The memory benchmarks alone, on ``crisis dev`` for its Temporal server and two satellite pairs: their table."""
    memory_playbooks = write_memory_playbooks(PROJECT / "playbooks", folder / "playbooks-memory")
    stack = BenchStack(folder / "dev", PROJECT / "playbooks")
    commander_side = Satellite("memory", folder / "memory", stack.temporal_address, memory_playbooks, metrics=True)
    roles_side = Satellite("memory-roles", folder / "memory-roles", stack.temporal_address, memory_playbooks, metrics=True)
    try:
        say("starting crisis dev, then two crisis api + crisis worker pairs for the memory runs")
        stack.launch()
        await stack.wait_temporal()
        await asyncio.gather(asyncio.to_thread(stack.wait_ready), commander_side.start(), roles_side.start())
        commander, roles = await measure_memory(commander_side, roles_side, memory_playbooks, sizes)
    finally:
        commander_side.stop()
        roles_side.stop()
        stack.stop()
    return memory_table(commander, roles, quick)


async def run_load(sizes: cases.Sizes, quick: bool, folder: Path) -> str:
    """The load benchmark alone, on its own ``crisis dev`` and satellite pair: its table row."""
    memory_playbooks = write_memory_playbooks(PROJECT / "playbooks", folder / "playbooks-memory")
    stack = BenchStack(folder / "dev", PROJECT / "playbooks")
    load_side = Satellite("load", folder / "load", stack.temporal_address, memory_playbooks)
    try:
        say("starting crisis dev, then a crisis api + crisis worker pair for the load")
        stack.launch()
        client = await stack.wait_temporal()
        await asyncio.gather(asyncio.to_thread(stack.wait_ready), load_side.start())
        say(f"load: {sizes.load_declarations} declarations, {sizes.load_concurrency} at a time")
        result = await cases.load(load_side, client, stack.temporal_cpu_seconds, MEMORY_PLAYBOOK, sizes)
    finally:
        load_side.stop()
        stack.stop()
    return load_table(result, quick)


def fanout_satellites(folder: Path, stack: BenchStack, playbooks: Path, providers: ProviderPages) -> list[Satellite]:
    """One satellite with one worker process and one with two, alike otherwise (each its own task
    queue, database and data folder)."""
    return [
        Satellite(
            f"fanout-{workers}w", folder / f"fanout-{workers}w", stack.temporal_address, playbooks, providers.settings, workers
        )
        for workers in (1, 2)
    ]


async def run_fanout(
    satellites: list[Satellite], server: BenchStack, providers: ProviderPages, sizes: cases.Sizes
) -> cases.FanoutComparison:
    say(
        f"fan-out: {sizes.fanout_runs} run(s) each on one and on two worker processes, in turns, paging"
        f" {sizes.fanout_people:,} people through the Twilio and SendGrid fakes ({providers.delay_s * 1000:.0f} ms a call)"
    )
    phones = {person_phone(i) for i in range(sizes.fanout_people)}
    emails = {person_email(i) for i in range(sizes.fanout_people)}
    one, two = await cases.fanout(satellites, server, providers, FANOUT_PLAYBOOK, sizes, phones, emails)
    return cases.FanoutComparison(one=one, two=two)


async def fanout_alone(sizes: cases.Sizes, folder: Path) -> cases.FanoutComparison:
    """The fan-out on its own: ``crisis dev`` for its Temporal server, and the fan-out satellites."""
    playbooks = PROJECT / "playbooks"
    fanout_playbooks = write_fanout_playbooks(playbooks, folder / "playbooks-fanout", sizes.fanout_people)
    stack = BenchStack(folder / "dev", playbooks)
    with ProviderPages(PROVIDER_DELAY_S) as providers:
        satellites = fanout_satellites(folder, stack, fanout_playbooks, providers)
        try:
            stack.launch()
            await stack.wait_temporal()
            await asyncio.gather(*(satellite.start() for satellite in satellites))
            return await run_fanout(satellites, stack, providers, sizes)
        finally:
            for satellite in satellites:
                satellite.stop()
            stack.stop()


async def mentions_alone(sizes: cases.Sizes, folder: Path) -> MentionsResult:
    """The mentions and the spike on their own ``crisis dev``."""
    stack = BenchStack(folder / "dev", PROJECT / "playbooks")
    try:
        stack.launch()
        await stack.wait_temporal()
        await asyncio.to_thread(stack.wait_ready)
        say(f"mentions: {sizes.mentions:,} ingested in batches of 5,000, then a spike replayed at {sizes.replay_speedup:g} ×")
        return await measure_mentions(stack, sizes.mentions, sizes.calm_minutes, sizes.replay_speedup)
    finally:
        stack.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: small sizes, targets not judged, writes only --output")
    parser.add_argument(
        "--output", type=Path, help=f"where to write the report (default for the full run: {DOCUMENT.relative_to(PROJECT)})"
    )
    parser.add_argument(
        "--only",
        choices=["latency", "fanout", "load", "memory", "mentions", "replay"],
        help="run this benchmark alone and print its figures (no report)",
    )
    args = parser.parse_args(argv)
    sizes = cases.QUICK if args.quick else cases.FULL
    if args.only == "fanout":
        with tempfile.TemporaryDirectory(prefix="crisis-bench-") as folder:
            print(fanout_table(asyncio.run(fanout_alone(sizes, Path(folder))), args.quick))
        return 0
    if args.only == "mentions":
        with tempfile.TemporaryDirectory(prefix="crisis-bench-") as folder:
            print(mentions_table(asyncio.run(mentions_alone(sizes, Path(folder))), args.quick))
        return 0
    if args.only == "replay":
        print(replay_table(asyncio.run(long_incident_replay(sizes.history_replays)), args.quick))
        return 0
    if args.only == "latency":
        with tempfile.TemporaryDirectory(prefix="crisis-bench-") as folder:
            print(asyncio.run(run_latency(sizes, args.quick, Path(folder))))
        return 0
    if args.only == "memory":
        with tempfile.TemporaryDirectory(prefix="crisis-bench-") as folder:
            print(asyncio.run(run_memory(sizes, args.quick, Path(folder))))
        return 0
    if args.only == "load":
        with tempfile.TemporaryDirectory(prefix="crisis-bench-") as folder:
            print(asyncio.run(run_load(sizes, args.quick, Path(folder))))
        return 0
    output = args.output or (None if args.quick else DOCUMENT)

    with tempfile.TemporaryDirectory(prefix="crisis-bench-") as folder:
        results = asyncio.run(run(sizes, args.quick, Path(folder)))
    print(tables(results))
    if output is not None:
        findings = "" if args.quick or not FINDINGS.exists() else FINDINGS.read_text(encoding="utf-8")
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(markdown(results, findings), encoding="utf-8")
        say(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
