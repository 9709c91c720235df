"""The job store port: how a job is created (row and queue message together) and claimed; one
adapter per backend, so services and the worker never see a driver or a dialect."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from practicegen import tracing
from practicegen.clock import Clock
from practicegen.db.engine import SessionMaker
from practicegen.db.models import Job
from practicegen.jobs.batching import Batcher
from practicegen.jobs.repository import JobRepository, JobWrites

MAX_CLAIMS = 1000  # claims in one statement at most (each id is one of its parameters)


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
    bank_version: int | None = None  # inserted only while the tenant's bank has this version
    # the span the job is created in, which its attempts continue (None: tracing off)
    traceparent: str | None = field(default_factory=tracing.traceparent)

    @property
    def updated_at(self) -> datetime:
        return self.created_at

    def columns(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in JOB_COLUMNS}


_NOT_COLUMNS = ("in_flight_limit", "delay_s", "bank_version")
JOB_COLUMNS = (*(f.name for f in fields(PendingJob) if f.name not in _NOT_COLUMNS), "updated_at")


class JobStore(Protocol):
    claims: ClaimBatcher
    writes: JobWrites  # what its database writes its own way, for a `JobRepository` of changes

    async def create(self, session: AsyncSession, job: PendingJob) -> bool:
        """Insert `job` and queue its message with `session`'s transaction (at once if none is
        open); False if the tenant is at its limit, has no such student, has the key, or (with
        `job.bank_version`) its bank's version is another."""
        ...

    async def open(self) -> None: ...

    async def close(self) -> None: ...


class ClaimBatcher(Batcher[Job]):
    """Claims asked for in the same turn of the event loop go to the database as one UPDATE."""

    def __init__(self, sessionmaker: SessionMaker, clock: Clock, writes: JobWrites) -> None:
        """`sessionmaker` lets each statement commit by itself: a claim is one statement."""
        super().__init__(self._claim_many, MAX_CLAIMS, first_only=True)
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.writes = writes

    async def claim(self, job_id: uuid.UUID) -> Job | None:
        """Start a new attempt of the job; None if it is finished or cancelled, or if another
        attempt claims it in the same statement (a duplicate queue message)."""
        return await self.get(job_id)

    async def _claim_many(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, Job]:
        async with self.sessionmaker() as session, session.begin():
            return await JobRepository(session, self.writes).claim_many(ids, self.clock())
