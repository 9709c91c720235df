"""Claiming the jobs a queue hands over together in one statement.

A queue dequeues a batch of jobs (up to half the process's concurrency) and starts an attempt
for each at once. Each attempt claimed its job with a statement of its own, with a pooled
connection, a session and a round trip each: when a thousand jobs start together that was
more of the worker's time than the planning that follows. Claims asked for in the same turn of
the event loop now go to the database as one UPDATE, and each attempt gets its own job back.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime

from practicegen.db.engine import SessionMaker
from practicegen.db.models import Job
from practicegen.jobs.repository import JobRepository

MAX_BATCH = 1000
"""Claims in one statement at most (each id is one of its parameters)."""


class ClaimBatcher:
    def __init__(self, sessionmaker: SessionMaker, clock: Callable[[], datetime]) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self._waiting: dict[uuid.UUID, list[asyncio.Future[Job | None]]] = {}
        self._claiming: asyncio.Task[None] | None = None

    async def claim(self, job_id: uuid.UUID) -> Job | None:
        """Start a new attempt of the job; None if it is finished or cancelled, or if another
        attempt of this process claims it in the same statement (a duplicate queue message)."""
        future: asyncio.Future[Job | None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(job_id, []).append(future)
        if self._claiming is None:
            self._claiming = asyncio.create_task(self._claim_waiting())
        return await future

    async def _claim_waiting(self) -> None:
        try:
            await asyncio.sleep(0)  # the rest of the batch asks in this turn of the loop
            while self._waiting:
                ids = list(self._waiting)[:MAX_BATCH]
                batch = {job_id: self._waiting.pop(job_id) for job_id in ids}
                try:
                    async with self.sessionmaker() as session, session.begin():
                        claimed = await JobRepository(session).claim_many(ids, self.clock())
                except Exception as exc:  # each attempt fails as its own claim would have
                    for future in _pending(batch):
                        future.set_exception(exc)
                    continue
                except asyncio.CancelledError:  # the process is stopping: so do the attempts
                    for future in _pending(batch):
                        future.cancel()
                    raise
                for job_id, futures in batch.items():
                    job = claimed.get(job_id)
                    for future in futures:  # the first still waiting runs it, any other not
                        if not future.done():
                            future.set_result(job)
                            job = None
        finally:
            self._claiming = None


def _pending(
    batch: dict[uuid.UUID, list[asyncio.Future[Job | None]]],
) -> list[asyncio.Future[Job | None]]:
    return [future for futures in batch.values() for future in futures if not future.done()]
