"""Garbage collection for a long-lived server process with many requests or jobs in flight.

With CPython's defaults each full collection walks every object the process holds, the
libraries' among them, and stops the event loop meanwhile. `settle()` is called once start-up
is done: it moves what exists by then (modules, classes, caches) out of the collector's sight
(`gc.freeze`), and lets more allocations pass before a young collection, so that a request's
or a job's short-lived objects mostly die before the collector looks at them. Kept over the
defaults because job creation measurably needs it (docs/decisions.md).
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
