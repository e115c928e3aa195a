"""``python -m bench [--quick] [--output PATH]``: run every benchmark, print the table, write the report.

The full run writes docs/BENCHMARKS.md (or ``--output``); ``--quick`` is a smoke run with small
sizes that writes only to ``--output`` when given and judges no target.
"""

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench import cases
from bench.fanout import PLAYBOOK_ID as FANOUT_PLAYBOOK
from bench.fanout import write_fanout_playbooks
from bench.floor import Floor
from bench.mentions import measure_mentions_per_second
from bench.pages import OutboxPages
from bench.report import Results, machine, markdown, now, tables
from bench.stack import BenchStack, Satellite
from domain.catalog import load_catalog

PROJECT = Path(__file__).resolve().parent.parent
DOCUMENT = PROJECT / "docs" / "BENCHMARKS.md"
FINDINGS = Path(__file__).resolve().parent / "findings.md"


_T0 = time.monotonic()


def say(message: str) -> None:
    print(f"[bench {time.monotonic() - _T0:6.1f} s] {message}", file=sys.stderr, flush=True)


async def run(sizes: cases.Sizes, quick: bool, folder: Path) -> Results:
    started_at, began = now(), time.monotonic()
    playbooks = PROJECT / "playbooks"
    catalog = load_catalog(playbooks)
    pages_per_incident = 2 * len(catalog.playbooks[cases.PLAYBOOK].identify.page)  # the first level, SMS + email
    fanout_playbooks = write_fanout_playbooks(playbooks, folder / "playbooks-fanout", sizes.fanout_people)

    stack = BenchStack(folder / "dev", playbooks)
    satellites: list[Satellite] = []
    opened: list[OutboxPages] = []
    try:
        say("starting crisis dev (Temporal dev server, worker, API)")
        await asyncio.to_thread(stack.start)
        fanout_side = Satellite("fanout", folder / "fanout", stack.temporal_address, fanout_playbooks)
        memory_side = Satellite("memory", folder / "memory", stack.temporal_address, playbooks)
        satellites += [fanout_side, memory_side]
        say("starting a crisis api + crisis worker pair for fan-out and one for memory")
        await asyncio.gather(fanout_side.start(), memory_side.start())
        pages, fanout_pages, memory_pages = (OutboxPages(s.database) for s in (stack, fanout_side, memory_side))
        opened += [pages, fanout_pages, memory_pages]

        async with httpx.AsyncClient(base_url=stack.url, timeout=60) as api:
            say(f"latency: {sizes.latency_samples} declarations alternating with as many floor runs")
            async with Floor(stack.temporal_address) as floor:
                latency = await cases.latency(api, pages, floor, pages_per_incident, sizes)
            say(f"approval: {sizes.approval_incidents} incidents driven to approval, every decision timed")
            approval = await cases.approval(api, sizes)
        say(f"fan-out: {sizes.fanout_runs} run(s) paging {sizes.fanout_people} people")
        fanout = await cases.fanout(fanout_side, fanout_pages, FANOUT_PLAYBOOK, sizes)
        say(f"memory: {sizes.memory_incidents:,} open incidents on the separate worker")
        memory = await cases.memory(memory_side, memory_pages, pages_per_incident, sizes)
        mentions = await measure_mentions_per_second(stack)
        say("done; stopping the stack")
    finally:
        for pages_db in opened:
            pages_db.close()
        for satellite in satellites:
            satellite.stop()
        stack.stop()
    return Results(
        sizes=sizes,
        quick=quick,
        latency=latency,
        approval_ms=approval,
        fanout=fanout,
        memory=memory,
        mentions_per_s=mentions,
        started=started_at,
        seconds=time.monotonic() - began,
        machine=machine(),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: small sizes, targets not judged, writes only --output")
    parser.add_argument("--output", type=Path, help=f"where to write the report (default for the full run: {DOCUMENT.relative_to(PROJECT)})")
    args = parser.parse_args(argv)
    sizes = cases.QUICK if args.quick else cases.FULL
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
