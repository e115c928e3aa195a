"""services/allocator.py against glibc itself: the arena cap holds for threads started after it, a
trim gives freed pages back, and an idle process trims once after each busy spell, not every check."""

import asyncio
import os
import subprocess
import sys
import time

import pytest

from services.allocator import glibc, resident_bytes, trim, trim_when_idle
from tests.conftest import PROJECT
from tests.malloc_heaps import arena_heaps, threads_allocating

pytestmark = pytest.mark.skipif(glibc() is None, reason="glibc's malloc only: mallopt and malloc_trim are not called elsewhere")
MB = 1024 * 1024


def heaps_of_threads_after(before: str, env: dict[str, str] | None = None) -> int:
    process = subprocess.Popen(
        [sys.executable, "-c", threads_allocating(before)],
        env={key: value for key, value in os.environ.items() if key != "MALLOC_ARENA_MAX"} | (env or {}),
        cwd=PROJECT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline() == "ready\n"
        return arena_heaps(process.pid)
    finally:
        process.stdin.close()
        process.wait(timeout=30)


def test_the_heap_count_sees_glibcs_arenas():
    """The memory-map reader used here and by tests/resilience: eight threads allocating at once get
    several arenas by default, one besides the main arena under glibc's own MALLOC_ARENA_MAX=2."""
    assert heaps_of_threads_after("") >= 2
    assert heaps_of_threads_after("", {"MALLOC_ARENA_MAX": "2"}) == 1


def test_capped_arenas_hold_for_the_threads_started_after():
    assert heaps_of_threads_after("from services.allocator import cap_arenas; assert cap_arenas(2)") == 1
    assert heaps_of_threads_after("from services.allocator import cap_arenas; assert not cap_arenas(0)") >= 2


def test_a_trim_gives_freed_pages_back():
    """Three of every four 4 KB blocks freed, the fourth kept: the holes cannot shrink the heap's top,
    so glibc keeps them until a trim hands their pages back."""
    blocks = [bytearray(4000) for _ in range(20_000)]  # 80 MB through malloc (pymalloc takes 512 bytes at most)
    for index in range(len(blocks)):
        if index % 4:
            blocks[index] = None
    before = resident_bytes()
    done = trim()
    assert done.released_bytes > 20 * MB, (before / MB, done)
    assert resident_bytes() < before - 20 * MB
    del blocks


class Meter:
    """The Temporal runtime's metric meter, as far as trim_when_idle uses it: what was recorded."""

    def __init__(self):
        self.recorded: dict[str, list[float]] = {}

    def _instrument(self, name: str, *_):
        values = self.recorded.setdefault(name, [])

        class Instrument:
            def add(self, value):
                values.append(value)

            record = add

        return Instrument()

    create_counter = create_histogram_timedelta = _instrument

    @property
    def trims(self) -> int:
        return len(self.recorded.get("crisis_worker_malloc_trims", []))


async def eventually(predicate, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "did not happen"
        await asyncio.sleep(0.05)


def spin(cpu_s: float) -> None:
    """Use ``cpu_s`` of CPU on the event loop's thread (however long that takes on a loaded machine)."""
    began = time.process_time()
    while time.process_time() - began < cpu_s:
        pass


async def test_an_idle_process_trims_once_after_each_busy_spell():
    meter = Meter()
    trimming = asyncio.create_task(trim_when_idle(0.2, meter))
    try:
        await eventually(lambda: meter.trims == 1)  # the start counts as work
        await asyncio.sleep(1.0)  # five idle checks more
        assert meter.trims == 1
        spin(0.1)
        await eventually(lambda: meter.trims == 2)
        assert len(meter.recorded["crisis_worker_malloc_trim_cpu"]) == 2 and meter.recorded["crisis_worker_malloc_trims"] == [
            1,
            1,
        ]
        assert all(value >= 0 for value in meter.recorded["crisis_worker_malloc_trimmed_bytes"])
    finally:
        trimming.cancel()
