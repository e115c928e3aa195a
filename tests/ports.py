"""Ports for the servers the tests and benchmarks start, from blocks below Linux's ephemeral range.

A port found by binding port 0 and closing the socket is free only until someone binds it, and most
of what the suite runs binds port 0: the Temporal dev server picks its UI, HTTP and metrics ports
that way, as do Prism, node and every loopback fake. So a port taken from the ephemeral range could
be handed to another process before our server bound it (on CI a parallel test's dev server
answered a declaration with 405). The kernel never hands out ports below that range, so here only
this module does, and each process walks a block of its own, claimed with a lock file the kernel
releases when the process ends (pytest-xdist workers and the benchmarks a test runs are separate
processes)."""

import fcntl
import os
import socket
import tempfile
from pathlib import Path

BLOCK = 400
LOWEST = 10_000  # above the well-known defaults the project uses (5432, 7233, 8000, 8080, 8233)


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        low, high = 32_768, 60_999
    return low, high


def _blocks() -> range:
    low, high = _ephemeral_range()
    if low - LOWEST >= 4 * BLOCK:
        return range(LOWEST, low - BLOCK + 1, BLOCK)
    return range(high + 1, 65_536 - BLOCK + 1, BLOCK)  # a machine whose ephemeral range starts low


class _Block:
    def __init__(self):
        folder = Path(tempfile.gettempdir()) / "crisisflow-test-ports"
        folder.mkdir(exist_ok=True)
        for first in _blocks():
            lock = os.open(folder / f"{first}.lock", os.O_CREAT | os.O_RDWR, 0o644)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(lock)
                continue
            self.lock, self.first, self.next = lock, first, 0
            return
        raise RuntimeError(f"every block of test ports is taken by a running process (locks in {folder})")

    def port(self) -> int:
        for _ in range(BLOCK):
            port = self.first + self.next
            self.next = (self.next + 1) % BLOCK
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    continue  # still held (a server of an earlier test, a socket in TIME_WAIT)
                return port
        raise RuntimeError(f"no free port in {self.first}-{self.first + BLOCK - 1}")


_block: _Block | None = None
_owner = 0


def free_port() -> int:
    """A loopback port nobody holds, which no other process will be given before its server binds it."""
    global _block, _owner
    if _block is None or _owner != os.getpid():  # a forked child claims a block of its own
        _block, _owner = _Block(), os.getpid()
    return _block.port()
