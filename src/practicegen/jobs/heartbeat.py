"""One writer for every attempt a process runs: each round writes all progress in one statement
and the other beats in another, fenced by (id, attempt); an attempt not returned is lost."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections.abc import Sequence

import structlog

from practicegen.clock import Clock
from practicegen.db.engine import SessionMaker
from practicegen.jobs.repository import Attempt, JobRepository, JobWrites, ProgressReport

log = structlog.get_logger()

_CHUNK = 500  # attempts per statement: bounds the statement's size, not the round's cost


class Heartbeats:
    """The attempts this process runs, their unwritten progress, and the task that writes."""

    def __init__(
        self, sessionmaker: SessionMaker, writes: JobWrites, *, interval_s: float, clock: Clock
    ) -> None:
        """`sessionmaker` lets each statement commit by itself (`autocommit_sessionmaker`)."""
        self.sessionmaker = sessionmaker
        self.writes = writes
        self.interval_s = interval_s
        self.clock = clock
        self._held: dict[Attempt, asyncio.Task[None]] = {}
        self._progress: dict[Attempt, ProgressReport] = {}
        self._reported = asyncio.Event()
        self._beaten_at = 0.0  # time.monotonic() of the last round
        self._progress_written_at = float("-inf")  # of the last round that wrote progress
        self._beating: asyncio.Task[None] | None = None

    def hold(self, attempt: Attempt, work: asyncio.Task[None]) -> None:
        """Beat for `attempt` until released; cancel `work` if the attempt is lost."""
        self._held[attempt] = work
        if self._beating is None or self._beating.done():
            self._beaten_at = time.monotonic()  # the claim itself just set the heartbeat
            # a context of its own: not the log bindings (job id) of the attempt that started it
            self._beating = asyncio.create_task(
                self._beat_while_holding(), context=contextvars.Context()
            )

    def release(self, attempt: Attempt) -> None:
        self._held.pop(attempt, None)
        self._progress.pop(attempt, None)

    def report(self, attempt: Attempt, percent: int, message: str) -> bool:
        """Queue `attempt`'s progress for the next round; False if the attempt was lost."""
        if attempt not in self._held:
            return False
        if not self._progress:
            self._reported.set()  # the first since the last round may make one due
        self._queue(ProgressReport(attempt[0], attempt[1], percent, message))
        return True

    def _queue(self, report: ProgressReport) -> None:
        """Queue `report` over any earlier one: its message, the higher percent."""
        attempt = (report.job_id, report.attempt)
        queued = self._progress.get(attempt)
        if queued is not None and queued.percent > report.percent:
            report = ProgressReport(report.job_id, report.attempt, queued.percent, report.message)
        self._progress[attempt] = report

    async def aclose(self) -> None:
        """Stop beating: the process is stopping, its attempts ended or handed back."""
        if self._beating is not None:
            self._beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beating

    async def _beat_while_holding(self) -> None:
        while self._held:
            await self._next_round()
            if self._held:
                await self._round()

    async def _next_round(self) -> None:
        """Wait until a beat is due, or reported progress may be written."""
        while True:
            due = self._beaten_at + self.interval_s
            if self._progress:
                due = min(due, self._progress_written_at + self.interval_s)
            left = due - time.monotonic()
            if left <= 0:
                return
            self._reported.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._reported.wait(), left)

    async def _round(self) -> None:
        progress, self._progress = self._progress, {}
        beats = [attempt for attempt in self._held if attempt not in progress]
        self._beaten_at = time.monotonic()
        if progress:
            self._progress_written_at = self._beaten_at
        try:
            owned = await self._write(list(progress.values()), beats)
        except Exception:  # the next round may succeed; the lease is long
            log.warning("jobs.heartbeat_failed", attempts=len(beats) + len(progress), exc_info=True)
            self._keep_for_next_round(progress)
            return
        for attempt in [*progress, *beats]:
            work = self._held.get(attempt)
            if attempt not in owned and work is not None:
                self.release(attempt)
                work.cancel()

    async def _write(
        self, progress: Sequence[ProgressReport], beats: list[Attempt]
    ) -> set[Attempt]:
        owned: set[Attempt] = set()
        now = self.clock()
        async with self.sessionmaker() as session, session.begin():
            repo = JobRepository(session, self.writes)
            for start in range(0, len(progress), _CHUNK):
                owned |= await repo.progress_many(progress[start : start + _CHUNK], now)
            for start in range(0, len(beats), _CHUNK):
                owned |= await self.writes.heartbeat(session, beats[start : start + _CHUNK], now)
        return owned

    def _keep_for_next_round(self, unwritten: dict[Attempt, ProgressReport]) -> None:
        """Put back progress a failed round did not write, under anything reported since."""
        for attempt, report in unwritten.items():
            if attempt not in self._held:
                continue
            newer = self._progress.pop(attempt, None)
            self._queue(report)
            if newer is not None:
                self._queue(newer)
