"""Sentiment scoring for ingestion, in worker processes beside the API.

VADER is pure Python and is most of the CPU a batch of mentions costs; in one process it would hold
the event loop (which ``crisis dev`` shares with the worker) for the whole batch. A small pool of
processes matches a batch's texts to their topics and scores the topical ones, in parallel, while
the API process validates and stores: the route hands over each part of a batch as soon as that
part is validated (:meth:`submit`), so the processes work while the API process is still
validating the rest. ``CRISIS_SENTIMENT_PROCESSES=0`` does it all in the API process instead.
"""

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from domain.listening import TopicMatcher
from domain.sentiment import score

_MIN_PER_PROCESS = 200  # below this, sending the texts over costs more than it saves

Item = tuple[str, str | None, str | None]  # a mention's text, language and the topic it names (or None)
Terms = tuple[tuple[str, tuple[str, ...]], ...]  # TopicMatcher.terms
_matchers: dict[Terms, TopicMatcher] = {}  # in a process: the matcher of the topics' terms last sent


def topics_and_scores(matcher: TopicMatcher, items: list[Item]) -> list[tuple[str | None, float | None]]:
    """Each item's topic (the one it names, else the first its text has the terms of) and, when
    it has one, its sentiment: sentiment is only ever read per topic (detection, charts)."""
    found = []
    for text, language, named in items:
        topic = matcher.topic_for(text, named)
        found.append((topic, None if topic is None else score(text, language)))
    return found


def _in_process(terms: Terms, items: list[Item]) -> list[tuple[str | None, float | None]]:
    matcher = _matchers.get(terms)
    if matcher is None:
        _matchers.clear()  # topics.yaml changed: the old terms are not sent again
        matcher = _matchers[terms] = TopicMatcher.from_terms(terms)
    return topics_and_scores(matcher, items)


def _warm() -> None:
    score("warm up the lexicon", "en")


class SentimentScorer:
    """The pool starts with the first batch large enough to need it (an API that never ingests
    a large batch never starts one). A pool one of whose processes ended (killed, out of memory)
    takes no more work: the next part goes to a new pool, so one lost process costs the batches
    it was scoring (their parts' futures fail with ``BrokenProcessPool``), not every batch after it."""

    def __init__(self, processes: int):
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    def in_processes(self, count: int) -> bool:
        """Whether a batch of ``count`` texts is worth sending to the processes."""
        return self.processes > 0 and count >= 2 * _MIN_PER_PROCESS

    def submit(self, matcher: TopicMatcher, items: list[Item]) -> "asyncio.Future[list[tuple[str | None, float | None]]]":
        """:func:`topics_and_scores` of ``items`` in one of the processes; the future has them in order."""
        loop = asyncio.get_running_loop()
        if self._pool is not None:
            try:
                return loop.run_in_executor(self._pool, _in_process, matcher.terms, items)
            except BrokenProcessPool:
                self._pool.shutdown(wait=False, cancel_futures=True)
        # spawn, not fork: the API process has Temporal's and SQLite's threads running
        self._pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"), initializer=_warm)
        return loop.run_in_executor(self._pool, _in_process, matcher.terms, items)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
