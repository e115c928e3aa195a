"""glibc's malloc in a worker process: few arenas, and freed memory given back to the system while idle.

The worker is multi-threaded (Temporal's Rust core, the activity and provider thread pools), and
glibc gives threads up to 8 arenas a core, each keeping what was freed in it. A run evicted from the
sticky cache frees its memory, but the arenas keep it, so an idle worker that has evicted many runs
held about 170 MB more than its cached runs need (bench/findings.md, Memory). Capping the arenas
(``mallopt(M_ARENA_MAX)``, the setting behind glibc's ``MALLOC_ARENA_MAX``) and calling
``malloc_trim(0)`` once the worker goes idle after work hands those pages back.

Elsewhere (musl, macOS) nothing is done: :func:`glibc` is None and the worker says so at start.
"""

import asyncio
import ctypes
import logging
import os
import time
from dataclasses import dataclass
from datetime import timedelta

log = logging.getLogger("crisisflow.worker")

M_ARENA_MAX = -8  # glibc's malloc.h
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
# A check whose window used less CPU than this share of it counts as idle (the bench's own measure of idle).
IDLE_CPU_SHARE = 0.02


def glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (whose mallopt and malloc_trim are used here), else None."""
    try:
        version = os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, ValueError, OSError):
        return None
    if not version or not version.startswith("glibc"):
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def cap_arenas(arenas: int) -> bool:
    """At most ``arenas`` malloc arenas in this process from now on (threads started before keep
    theirs, so call it before any thread starts). 0 leaves glibc's default. True if applied."""
    libc = glibc()
    if arenas <= 0 or libc is None:
        return False
    return libc.mallopt(M_ARENA_MAX, arenas) == 1


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


@dataclass
class Trim:
    released_bytes: int  # resident memory before the trim less after it (0 if it grew meanwhile)
    cpu_s: float  # the trim's own CPU time


def trim() -> Trim:
    """``malloc_trim(0)``: every arena's free pages go back to the system."""
    libc = glibc()
    assert libc is not None, "malloc_trim is glibc's"
    before, began = resident_bytes(), time.thread_time()
    libc.malloc_trim(0)
    cpu_s = time.thread_time() - began
    return Trim(max(before - resident_bytes(), 0), cpu_s)


async def trim_when_idle(interval_s: float, meter) -> None:
    """Every ``interval_s``, look at the CPU this process used; the first window that was idle after
    one that was busy ends in a trim (so an idle worker trims once, not every window). ``meter``:
    the Temporal runtime's metric meter; the trims, the memory they gave back and their CPU time are
    counted there (``crisis_worker_malloc_trims``, ``crisis_worker_malloc_trimmed_bytes``,
    ``crisis_worker_malloc_trim_cpu``)."""
    trims = meter.create_counter("crisis_worker_malloc_trims", "malloc_trim(0) calls made once the worker went idle")
    trimmed = meter.create_counter(
        "crisis_worker_malloc_trimmed_bytes", "resident memory the idle worker's malloc_trim(0) gave back", "By"
    )
    trim_cpu = meter.create_histogram_timedelta("crisis_worker_malloc_trim_cpu", "CPU time of each malloc_trim(0)")
    busy_since_trim = True
    last = time.process_time()
    while True:
        await asyncio.sleep(interval_s)
        now = time.process_time()
        idle = now - last < IDLE_CPU_SHARE * interval_s
        last = now
        if not idle:
            busy_since_trim = True
        elif busy_since_trim:
            done = await asyncio.to_thread(trim)
            busy_since_trim = False
            last = time.process_time()  # the trim's own CPU is not work
            trims.add(1)
            trimmed.add(done.released_bytes)
            trim_cpu.record(timedelta(seconds=done.cpu_s))
            log.debug("malloc_trim(0) gave back %.1f MB in %.1f ms of CPU", done.released_bytes / 2**20, done.cpu_s * 1000)
