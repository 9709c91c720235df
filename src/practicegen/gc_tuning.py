"""Garbage collection for a long-lived server process with many requests or jobs in flight.

With CPython's defaults each full collection walks every object the process holds and stops
the event loop meanwhile; `settle()` hides the start-up heap from the collector and lets a
request's or a job's short-lived objects die before a young collection looks at them.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000
"""Allocations (less deallocations) between young collections; CPython's default is 700."""


def settle() -> None:
    """Freeze the start-up heap and widen the young generation; call once, before serving."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
