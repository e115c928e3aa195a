"""The garbage collector and a long-lived process's start-up heap.

A process that serves the API or runs the worker holds a few hundred thousand objects from its
imports and start-up (modules, classes, pydantic schemas, SQLAlchemy mappers, Temporal's SDK) that
live as long as it does. CPython's full collection walks every one of them, and a batch of 5,000
mentions allocates enough to bring one on every few batches: about 145 ms of CPU each in
``crisis dev`` during the mentions bench, 48 ms a batch on average (bench/findings.md). Moving the
start-up heap out of the collector's sight once start-up is done (:func:`gc.freeze`, CPython's
documented way) leaves collections only what the process makes afterwards.
"""

import gc


def freeze_startup_heap() -> int:
    """Collect what start-up left as garbage, then exempt every object still alive from later
    collections; returns how many objects are exempt. Calling it again exempts what was made since."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
