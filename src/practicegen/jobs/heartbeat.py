"""One heartbeat for every attempt a process runs: a single fenced UPDATE per interval.

A worker may hold a thousand jobs that each wait half a minute on a model. A heartbeat per job
would be a thousand transactions every interval, enough to drain the connection pool and
starve the jobs' own reads and writes; one statement per interval (in chunks) costs the same
for one job as for a thousand. The UPDATE is fenced by (id, attempt) and by the job still
processing, so a row it does not return is an attempt this process no longer owns (cancelled,
or re-picked after a stall): that attempt's task is cancelled. A failed beat (the database is
restarting, say) is logged and tried again next interval; only the lease timeout, measured by
the database's clock on the reclaiming side, decides that a worker is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from datetime import datetime

import structlog

from practicegen.db.engine import SessionMaker
from practicegen.jobs.repository import JobRepository

log = structlog.get_logger()

_CHUNK = 500  # attempts per statement: bounds the statement's size, not the interval's cost

Attempt = tuple[uuid.UUID, int]


class Heartbeats:
    def __init__(
        self, sessionmaker: SessionMaker, *, interval_s: float, clock: Callable[[], datetime]
    ) -> None:
        self.sessionmaker = sessionmaker
        self.interval_s = interval_s
        self.clock = clock
        self._held: dict[Attempt, asyncio.Task[None]] = {}
        self._beating: asyncio.Task[None] | None = None

    def hold(self, attempt: Attempt, work: asyncio.Task[None]) -> None:
        """Beat for `attempt` until released; cancel `work` if the attempt is lost."""
        self._held[attempt] = work
        if self._beating is None or self._beating.done():
            self._beating = asyncio.create_task(self._beat_while_holding())

    def release(self, attempt: Attempt) -> None:
        self._held.pop(attempt, None)

    async def aclose(self) -> None:
        """Stop beating: the process is stopping, its attempts ended or handed back."""
        if self._beating is not None:
            self._beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beating

    async def _beat_while_holding(self) -> None:
        while self._held:
            await asyncio.sleep(self.interval_s)
            held = list(self._held)
            try:
                owned = await self._beat(held)
            except Exception:  # the next beat may succeed; the lease is long
                log.warning("jobs.heartbeat_failed", attempts=len(held), exc_info=True)
                continue
            for attempt in held:
                work = self._held.get(attempt)
                if attempt not in owned and work is not None:
                    self._held.pop(attempt)
                    work.cancel()

    async def _beat(self, held: list[Attempt]) -> set[Attempt]:
        owned: set[Attempt] = set()
        now = self.clock()
        async with self.sessionmaker() as session, session.begin():
            repo = JobRepository(session)
            for start in range(0, len(held), _CHUNK):
                owned |= await repo.heartbeat_many(held[start : start + _CHUNK], now)
        return owned
