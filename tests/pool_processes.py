"""The sentiment pool's processes (``api/sentiment_pool.py``) as the tests see and kill them."""

import asyncio
import os
import signal

import psutil


def pool_processes() -> list[psutil.Process]:
    """This process's spawned pool processes."""
    return [child for child in psutil.Process().children() if "spawn_main" in " ".join(child.cmdline())]


async def kill_one_pool_process() -> None:
    """SIGKILL one process of the pool (as the kernel's out-of-memory killer would) and wait until it is gone."""
    (victim, *_) = pool_processes()
    os.kill(victim.pid, signal.SIGKILL)
    await asyncio.to_thread(psutil.wait_procs, [victim], 10)
