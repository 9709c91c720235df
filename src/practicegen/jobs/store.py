"""The job store port: how a job is created (row and queue message together) and claimed.

One adapter per backend (`pg_store`, `sqlite_store`), so services and the worker never see a
driver or a dialect. Both claim through `ClaimBatcher`: one UPDATE per batch a queue hands over.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from practicegen import tracing
from practicegen.clock import Clock
from practicegen.db.engine import SessionMaker
from practicegen.db.models import Job
from practicegen.jobs.repository import JobRepository, JobWrites

MAX_CLAIMS = 1000
"""Claims in one statement at most (each id is one of its parameters)."""


@dataclass(frozen=True, slots=True)
class PendingJob:
    """A new job's columns (an ORM `Job` costs more to build than the insert), limit and delay."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    job_type: str
    student_id: uuid.UUID | None
    request: dict[str, Any]
    max_attempts: int
    idempotency_key: str | None
    request_hash: str | None
    webhook_url: str | None
    created_at: datetime
    status: str = "pending"
    progress_percent: int = 0
    progress_message: str = "Queued."
    attempt: int = 0
    seq: int = 1
    in_flight_limit: int | None = None
    delay_s: float = 0
    # the span the job is created in, which its attempts continue (None: tracing off)
    traceparent: str | None = field(default_factory=tracing.traceparent)

    @property
    def updated_at(self) -> datetime:
        return self.created_at

    def columns(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in JOB_COLUMNS}


_NOT_COLUMNS = ("in_flight_limit", "delay_s")
JOB_COLUMNS = (*(f.name for f in fields(PendingJob) if f.name not in _NOT_COLUMNS), "updated_at")
"""The columns of a new job's row."""


class JobStore(Protocol):
    claims: ClaimBatcher

    @property
    def writes(self) -> JobWrites:
        """What this database writes its own way, for each `JobRepository` that changes jobs."""
        ...

    async def create(self, session: AsyncSession, job: PendingJob) -> bool:
        """Insert `job` and queue its message with `session`'s transaction (at once if none is
        open); False if the tenant is at its limit, has no such student, or has the key."""
        ...

    async def open(self) -> None: ...

    async def close(self) -> None: ...


class ClaimBatcher:
    """Claims asked for in the same turn of the event loop go to the database as one UPDATE."""

    def __init__(self, sessionmaker: SessionMaker, clock: Clock, writes: JobWrites) -> None:
        """`sessionmaker` lets each statement commit by itself: a claim is one statement."""
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.writes = writes
        self._waiting: dict[uuid.UUID, list[asyncio.Future[Job | None]]] = {}
        self._claiming: asyncio.Task[None] | None = None

    async def claim(self, job_id: uuid.UUID) -> Job | None:
        """Start a new attempt of the job; None if it is finished or cancelled, or if another
        attempt claims it in the same statement (a duplicate queue message)."""
        future: asyncio.Future[Job | None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(job_id, []).append(future)
        if self._claiming is None:
            self._claiming = asyncio.create_task(self._claim_waiting())
        return await future

    async def _claim_waiting(self) -> None:
        try:
            await asyncio.sleep(0)  # the rest of the batch asks in this turn of the loop
            while self._waiting:
                ids = list(self._waiting)[:MAX_CLAIMS]
                batch = {job_id: self._waiting.pop(job_id) for job_id in ids}
                try:
                    async with self.sessionmaker() as session, session.begin():
                        claimed = await JobRepository(session, self.writes).claim_many(
                            ids, self.clock()
                        )
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
