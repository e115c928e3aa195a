"""The month-long incident first: the hooks ``tests/conftest.py`` takes in.

In ``make test`` the 30-day incident (marked ``long``) runs in one process from the start, about
nine minutes of CPU on a machine to itself, while the two other processes run the rest of the
suite, which waits as much as it computes (stacks starting, pages loading, real-time deadlines).
Sharing the cores evenly stretched the long test to the end of the run and past it, so in a
parallel run that includes it, every other process gives it the CPU first: a worker lowers its own
priority (``os.nice``, which any process may do) before its first test that is not the long one, and
the servers and browsers it starts from then on inherit that; the long test's process does the same
once the test is done, so that the rest of the run shares the machine evenly again."""

import os

import pytest

YIELD_TO_THE_LONG_TEST = 10  # added niceness (the most is 19)
BESIDE_THE_LONG_TEST = pytest.StashKey[bool]()
YIELDED = pytest.StashKey[bool]()


def pytest_collection_finish(session) -> None:
    in_a_worker = hasattr(session.config, "workerinput")  # pytest-xdist's worker process (not an inherited variable)
    session.config.stash[BESIDE_THE_LONG_TEST] = in_a_worker and any(item.get_closest_marker("long") for item in session.items)


def pytest_runtest_setup(item) -> None:
    if not item.get_closest_marker("long"):
        _yield_the_cpu(item.config)


def pytest_runtest_teardown(item) -> None:
    if item.get_closest_marker("long"):
        _yield_the_cpu(item.config)


def _yield_the_cpu(config) -> None:
    if config.stash.get(BESIDE_THE_LONG_TEST, False) and not config.stash.get(YIELDED, False):
        config.stash[YIELDED] = True
        os.nice(YIELD_TO_THE_LONG_TEST)
