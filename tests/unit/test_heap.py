"""The start-up heap is exempt from garbage collection once a process is up (services/heap.py)."""

import gc
import subprocess
import sys

from api.metrics import ApiMetrics


def test_freezing_exempts_what_is_alive_and_collects_startup_garbage_first():
    """In a fresh interpreter: freezing the whole pytest process would outlive the test."""
    probe = """
import gc
import weakref
from services.heap import freeze_startup_heap

class Cycle:
    pass

garbage = Cycle(); garbage.me = garbage
gone = weakref.ref(garbage)
del garbage
kept = Cycle(); kept.me = kept
frozen = freeze_startup_heap()
assert frozen == gc.get_freeze_count() > 1_000, frozen
assert gone() is None, "start-up garbage was frozen, not collected"
assert not any(each is kept for each in gc.get_objects()), "what is alive is out of the collector's sight"
again = freeze_startup_heap()
assert again >= frozen
"""
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_the_api_metrics_report_the_frozen_heap():
    text = ApiMetrics().registry.get_sample_value("crisis_process_gc_frozen_objects")
    assert text == gc.get_freeze_count()
