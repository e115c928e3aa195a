"""Sentiment scoring for ingestion, in worker processes beside the API.

VADER is pure Python and is most of the CPU a batch of mentions costs; in one process it would hold
the event loop (which ``crisis dev`` shares with the worker) for the whole batch. A small pool of
processes scores a batch's texts in parallel while the API process validates, matches and stores:
the route hands over each part of a batch as soon as that part is validated (:meth:`submit`), so
the processes score while the API process is still validating the rest.
``CRISIS_SENTIMENT_PROCESSES=0`` scores in the API process instead.
"""

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from domain.sentiment import score

_MIN_PER_PROCESS = 200  # below this, sending the texts over costs more than it saves


def score_all(items: list[tuple[str, str | None]]) -> list[float | None]:
    return [score(text, language) for text, language in items]


def _warm() -> None:
    score("warm up the lexicon", "en")


class SentimentScorer:
    """The pool starts with the first batch large enough to need it (an API that never ingests
    a large batch never starts one)."""

    def __init__(self, processes: int):
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    def in_processes(self, count: int) -> bool:
        """Whether a batch of ``count`` texts is worth sending to the processes."""
        return self.processes > 0 and count >= 2 * _MIN_PER_PROCESS

    def submit(self, items: list[tuple[str, str | None]]) -> "asyncio.Future[list[float | None]]":
        """Score ``items`` in one of the processes; the future has their scores in order."""
        if self._pool is None:
            # spawn, not fork: the API process has Temporal's and SQLite's threads running
            self._pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"), initializer=_warm)
        return asyncio.get_running_loop().run_in_executor(self._pool, score_all, items)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
