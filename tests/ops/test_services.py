"""Long-lived processes run on uvloop (``cli.common.run_service``): a paging worker is bound by one core,
and on asyncio's own loop it used half as much CPU again per page (docs/BENCHMARKS.md)."""

import asyncio

import uvloop

from cli.common import run_service


def test_the_worker_and_the_dev_stack_run_on_uvloop():
    loops = []

    async def service() -> None:
        loops.append(asyncio.get_running_loop())

    run_service(service())
    assert len(loops) == 1 and isinstance(loops[0], uvloop.Loop)
