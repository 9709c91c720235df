"""The collector settings `serve` and `worker` adopt once started (in a process of its own:
freezing the test process's heap would keep its garbage for the rest of the run)."""

from __future__ import annotations

import subprocess
import sys

from practicegen import gc_tuning

CHECK = """
import gc
from practicegen import gc_tuning
gc_tuning.starting()
assert not gc.isenabled()
garbage = [[] for _ in range(1000)]
gc_tuning.settle()
assert gc.isenabled()
assert gc.get_freeze_count() > 1000, gc.get_freeze_count()
assert gc.get_threshold()[0] == gc_tuning.YOUNG_THRESHOLD
print("settled", gc.get_count()[0] < gc_tuning.YOUNG_THRESHOLD)
"""


def test_settle_freezes_the_start_up_heap_and_widens_the_young_generation() -> None:
    ran = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=60, check=False
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "settled True"
    assert gc_tuning.YOUNG_THRESHOLD > 700  # CPython's default, which it replaces
