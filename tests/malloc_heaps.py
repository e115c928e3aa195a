"""glibc's arenas in a running process, read from its memory map: each arena other than the main one
lives in heaps, anonymous mappings aligned to 64 MiB that reserve exactly 64 MiB (the part in use,
read-write, then the rest of the reserve, no access); an arena has one heap until it outgrows 64 MiB."""

import textwrap

HEAP = 64 * 1024 * 1024  # glibc's HEAP_MAX_SIZE on 64-bit


def arena_heaps(pid: int) -> int:
    rows = []
    with open(f"/proc/{pid}/maps") as maps:
        for line in maps:
            fields = line.split()
            start, end = (int(address, 16) for address in fields[0].split("-"))
            rows.append((start, end, fields[1], len(fields) > 5))
    heaps = 0
    for index, (start, end, permissions, named) in enumerate(rows):
        if named or start % HEAP or not permissions.startswith("rw"):
            continue
        size = end - start
        if index + 1 < len(rows):
            next_start, next_end, next_permissions, next_named = rows[index + 1]
            if next_start == end and next_permissions.startswith("---") and not next_named:
                size += next_end - next_start
        heaps += size == HEAP
    return heaps


def threads_allocating(before: str = "") -> str:
    """A Python program that runs ``before``, then has eight threads allocate at once, prints "ready"
    and holds everything until its stdin closes."""
    return textwrap.dedent(
        """
        {before}
        import sys, threading
        held, ready = [], threading.Barrier(9)
        def work():
            held.append([bytearray(4096) for _ in range(200)])
            ready.wait()
            threading.Event().wait()
        for _ in range(8):
            threading.Thread(target=work, daemon=True).start()
        ready.wait()
        print("ready", flush=True)
        sys.stdin.read()
        """
    ).format(before=before)
