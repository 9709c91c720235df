"""Admission by memory: a process past `PRACTICEGEN_JOB_MEMORY_MB` hands a message back unclaimed;
one running no job always takes one, as memory the allocator keeps must not stop it for good."""

from __future__ import annotations

import os
import resource
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import structlog
from pgqueuer.errors import RetryRequested
from pgqueuer.models import Job as QueueMessage

from practicegen.jobs.lanes import Consume

log = structlog.get_logger()
_PAGE = os.sysconf("SC_PAGE_SIZE")


def resident_bytes() -> int:
    """This process's resident set size now; where /proc is missing, its peak so far."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


@dataclass(eq=False)
class MemoryAdmission:
    """Runs a message while the process is under `limit_bytes`; counts what it holds back."""

    limit_bytes: int
    defer_s: float
    resident: Callable[[], int] = resident_bytes
    running: int = 0  # jobs this process runs now
    held_back: int = 0  # messages handed back because memory was past the bound
    _full: bool = field(default=False, repr=False)

    def admitting(self, consume: Consume) -> Consume:
        """`consume`, run only while memory allows (or nothing else runs)."""

        async def admitted(message: QueueMessage) -> None:
            if self.running > 0 and self._past_bound():
                self.held_back += 1
                delay = timedelta(seconds=self.defer_s)
                raise RetryRequested(delay=delay, reason="memory past its bound")
            self.running += 1
            try:
                await consume(message)
            finally:
                self.running -= 1

        return admitted

    def _past_bound(self) -> bool:
        resident = self.resident()
        full = resident >= self.limit_bytes
        if full != self._full:  # said once per change, not per message
            self._full = full
            event = "jobs.memory_full" if full else "jobs.memory_available"
            log.warning(event, resident_mb=resident >> 20, limit_mb=self.limit_bytes >> 20)
        return full
