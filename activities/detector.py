"""The detector's pass over a topic's new mentions, in a process of its own beside the worker.

A pass after a batch of 5,000 mentions turns thousands of rows into facts, counts them into
buckets, looks for the keyword triggers and judges each bucket: tens of milliseconds of pure Python.
In ``crisis dev`` the worker shares its interpreter with the API, so in a thread that pass held the
interpreter lock the next batch's validation and insert were waiting for (bench/findings.md). Only
the rows go over, as the database driver hands them (on SQLite, its text of each time, parsed
there), and the new state and the detections come back. A pass with few mentions, or with
``CRISIS_DETECTOR_PROCESSES=0``, is judged in a thread of the worker as before: the same function,
so the same answer.
"""

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone

from domain.listening import Detection, DetectorState, MentionFacts, Topic, count_buckets, evaluate

MIN_ROWS = 1000  # below this, sending the rows over costs about what it saves
PROCESS_NAME = "crisis-detector"  # what ps, top and the bench's split of CPU by process call it (Linux)


def _name_process() -> None:
    try:
        with open("/proc/self/comm", "w") as comm:
            comm.write(PROCESS_NAME)
    except OSError:  # not Linux: the process keeps its interpreter's name
        pass


def judge(
    topic: Topic, state: DetectorState, rows: list[tuple], stream_time: datetime, times_as_text: bool
) -> tuple[DetectorState, list[Detection]]:
    """:func:`domain.listening.evaluate` of ``rows`` (``store.mentions.topic_mention_rows``'s: on
    SQLite each time is the database's text of a UTC time, and the flags are 0 or 1)."""
    if times_as_text:
        facts = [
            MentionFacts(datetime.fromisoformat(at).replace(tzinfo=timezone.utc), bool(negative), bool(scored), *rest)
            for at, negative, scored, *rest in rows
        ]
    else:
        facts = [MentionFacts(*row) for row in rows]
    return evaluate(topic, state, count_buckets(topic, facts), stream_time)


class DetectorPool:
    """The process starts with the first pass large enough to need it: a worker whose topics never
    get a large batch (or that has none) never starts one."""

    def __init__(self, processes: int):
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    def in_processes(self, rows: int) -> bool:
        return self.processes > 0 and rows >= MIN_ROWS

    async def judge(
        self, topic: Topic, state: DetectorState, rows: list[tuple], stream_time: datetime, times_as_text: bool
    ) -> tuple[DetectorState, list[Detection]]:
        if not self.in_processes(len(rows)):
            return await asyncio.to_thread(judge, topic, state, rows, stream_time, times_as_text)
        if self._pool is None:
            # spawn, not fork: the worker has Temporal's and the database driver's threads running
            self._pool = ProcessPoolExecutor(
                self.processes, mp_context=multiprocessing.get_context("spawn"), initializer=_name_process
            )
        return await asyncio.get_running_loop().run_in_executor(self._pool, judge, topic, state, rows, stream_time, times_as_text)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
