"""Creating a job on PostgreSQL in one statement: the API's busiest write, made cheap.

The ORM path (`service.create_job`) checks a SQLAlchemy connection out (pinging it), opens a
transaction, inserts the job, inserts the queue message through pgqueuer's query and commits:
five round trips, and most of an async create's CPU. Here the job row and its queue message are
one INSERT (a data-modifying WITH), which PostgreSQL runs atomically in autocommit mode. The
student check and the tenant's limit on jobs in flight are part of it, as in
`JobRepository.add_within_limit`, but the count of jobs in flight is the one migration 008's
triggers keep, a sum of a few rows however long the tenant's queue.

Connections come from a psycopg pool of their own, in autocommit mode and not pinged on
checkout: their socket is looked at instead (`pg_checkout`), so those the server ended (the
database restarted) are replaced before use. One that dies under its statement is dropped and
the statement sent once more on another. That cannot create the job twice: its id is chosen
here, so if the first attempt did commit, the second is refused as a duplicate id, which means
"created" (a keyed job's second attempt inserts nothing instead, and the caller finds the job
by its key).

The message is the row pgqueuer's enqueue query writes (the table of migration 004, which this
project installs; the worker's tests dequeue what this writes): entrypoint, the job id's bytes
as payload, priority 0, status 'queued', due now. pgqueuer's statement trigger sends its NOTIFY.
An Idempotency-Key the tenant already used inserts nothing (`ON CONFLICT DO NOTHING`; a request
whose twin is inserting at that moment waits for it), and the caller then reads the job that
holds the key.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from practicegen.db import pg_checkout
from practicegen.db.models import Job
from practicegen.jobs.queue import ENTRYPOINT

_INSERT_JOB_AND_MESSAGE = """
WITH job AS (
    INSERT INTO jobs (id, tenant_id, job_type, status, progress_percent, progress_message,
                      student_id, request, attempt, max_attempts, seq, idempotency_key,
                      request_hash, webhook_url, created_at, updated_at)
    SELECT %(id)s, %(tenant_id)s, %(job_type)s, %(status)s, %(progress_percent)s,
           %(progress_message)s, %(student_id)s, %(request)s, %(attempt)s, %(max_attempts)s,
           %(seq)s, %(idempotency_key)s, %(request_hash)s, %(webhook_url)s, %(created_at)s,
           %(updated_at)s
    WHERE (SELECT coalesce(sum(in_flight), 0) FROM job_counts
           WHERE job_counts.tenant_id = %(tenant_id)s) < %(in_flight_limit)s
      AND (%(student_id)s::uuid IS NULL OR EXISTS (
              SELECT 1 FROM students
              WHERE students.tenant_id = %(tenant_id)s AND students.id = %(student_id)s))
    ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
    RETURNING id
)
INSERT INTO pgqueuer (priority, entrypoint, payload, execute_after, status)
SELECT 0, %(entrypoint)s, %(payload)s, now(), 'queued' FROM job
RETURNING id
"""


@dataclass(frozen=True, slots=True)
class PendingJob:
    """A new job's columns, as this statement writes them: a plain object, as an ORM `Job`
    cost a twentieth of an async create's CPU to build, only to be read back here."""

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

    @property
    def updated_at(self) -> datetime:
        return self.created_at


class PostgresJobWriter:
    """Inserts a new job with its queue message, committed at once (see the module docstring)."""

    def __init__(self, conninfo: str, *, max_connections: int, timeout_s: float = 5.0) -> None:
        """`timeout_s`: how long a creation may wait for a connection before it gives up (a
        503 that says to retry), as the SQLAlchemy pool's checkout does."""
        self.pool = AsyncConnectionPool(
            conninfo,
            min_size=1,
            max_size=max_connections,
            kwargs={"autocommit": True},
            timeout=timeout_s,
            open=False,
            # a connection the server ended (a restart) is replaced when taken, not when it fails
            check=pg_checkout.check_psycopg
            if pg_checkout.CHECKS_SOCKET
            else AsyncConnectionPool.check_connection,
        )

    async def open(self) -> None:
        await self.pool.open()

    async def close(self) -> None:
        await self.pool.close()

    async def add_and_enqueue(self, job: Job | PendingJob, *, in_flight_limit: int) -> bool:
        """Insert `job` (its id set) and its message unless the tenant has `in_flight_limit`
        jobs in flight, the job names a student the tenant does not have, or the tenant has a
        job with its idempotency key; False if it did not insert."""
        params = {
            "id": job.id,
            "tenant_id": job.tenant_id,
            "job_type": job.job_type,
            "status": job.status,
            "progress_percent": job.progress_percent,
            "progress_message": job.progress_message,
            "student_id": job.student_id,
            "request": Jsonb(job.request),
            "attempt": job.attempt,
            "max_attempts": job.max_attempts,
            "seq": job.seq,
            "idempotency_key": job.idempotency_key,
            "request_hash": job.request_hash,
            "webhook_url": job.webhook_url,
            "created_at": job.created_at,
            "updated_at": job.updated_at,
            "in_flight_limit": in_flight_limit,
            "entrypoint": ENTRYPOINT,
            "payload": job.id.bytes,
        }
        for last_try in (False, True):
            try:
                async with self.pool.connection() as conn:
                    cursor = await conn.execute(_INSERT_JOB_AND_MESSAGE, params)
                    return await cursor.fetchone() is not None
            except pg_errors.UniqueViolation:
                if last_try:  # the first try committed before its connection died
                    return True
                raise
            except psycopg.OperationalError:
                if last_try:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover
