"""Garbage collection for a long-lived server process: no collection while it starts, whose
heap is all live (`starting()`), then `settle()` hides that heap from the collector and lets
short-lived objects die before a young collection looks at them.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000  # allocations less deallocations between young collections


def starting() -> None:
    """Collect nothing until `settle()`: loading the service's modules makes little garbage, and
    each full collection among them walks every object loaded so far."""
    gc.disable()


def settle() -> None:
    """Freeze the start-up heap and widen the young generation; call once, before serving."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
    gc.enable()
