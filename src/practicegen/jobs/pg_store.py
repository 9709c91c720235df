"""The job store on PostgreSQL: a job's row and its queue message in one statement.

Why one statement: the ORM path (checkout, BEGIN, the job's INSERT, pgqueuer's enqueue query,
COMMIT) was five round trips and most of an async create's CPU. The job row and its message are
one INSERT (a data-modifying WITH), atomic by itself. It writes the row pgqueuer's enqueue query
writes (the table of migration 004, which this project installs; the worker's tests dequeue
what this writes): entrypoint and headers of the job's lane, the job id's bytes as payload,
priority 0, status 'queued', due after the delay. pgqueuer's statement trigger sends its NOTIFY.

The tenant's limit on jobs in flight is the count migration 008's triggers keep (a sum of a
few rows however long the tenant's queue); the student check is part of the statement too. An
Idempotency-Key the tenant already used inserts nothing (`ON CONFLICT DO NOTHING`; a request
whose twin is inserting at that moment waits for it).

The statement runs in the caller's transaction when its session has one open (a webhook
delivery commits with the job it reports). Otherwise it runs on a psycopg pool of its own, in
autocommit mode, committed at once; its connections are checked when taken (psycopg_pool's
`check_connection`, as SQLAlchemy's pool pre-pings). One that dies under its statement is
dropped and the statement sent once more on another: that cannot create the job twice, as its
id is chosen before, so if the first attempt did commit the second is refused as a duplicate
id, which means "created" (a keyed job's second attempt inserts nothing, and the caller finds
the job by its key). Claims are batched (`store.ClaimBatcher`) and each commits by itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import ColumnElement, Integer, Row, Text, Uuid, bindparam, func, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningUpdate
from sqlalchemy.sql.selectable import TableValuedAlias

from practicegen.clock import Clock
from practicegen.db.engine import SessionMaker, autocommit_sessionmaker
from practicegen.db.models import Job
from practicegen.jobs.events import signal_in_returning
from practicegen.jobs.lanes import Lane
from practicegen.jobs.queue import message_of
from practicegen.jobs.repository import (
    BEAT,
    PROGRESS_RETURNED,
    Attempt,
    JobWrites,
    ProgressReport,
    jobs_table,
)
from practicegen.jobs.store import ClaimBatcher, PendingJob

Params = dict[str, Any]

_INSERT_JOB_AND_MESSAGE = """
WITH job AS (
    INSERT INTO jobs (id, tenant_id, job_type, status, progress_percent, progress_message,
                      student_id, request, attempt, max_attempts, seq, idempotency_key,
                      request_hash, webhook_url, created_at, updated_at)
    SELECT %(id)s, %(tenant_id)s, %(job_type)s, %(status)s, %(progress_percent)s,
           %(progress_message)s, %(student_id)s, %(request)s, %(attempt)s, %(max_attempts)s,
           %(seq)s, %(idempotency_key)s, %(request_hash)s, %(webhook_url)s, %(created_at)s,
           %(updated_at)s
    WHERE {limit}(%(student_id)s::uuid IS NULL OR EXISTS (
              SELECT 1 FROM students
              WHERE students.tenant_id = %(tenant_id)s AND students.id = %(student_id)s))
    ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
    RETURNING id
)
INSERT INTO pgqueuer (priority, entrypoint, payload, headers, execute_after, status)
SELECT 0, %(entrypoint)s, %(payload)s, %(headers)s,
       now() + make_interval(secs => %(delay_s)s), 'queued' FROM job
RETURNING id
"""


_WITHIN_LIMIT = """(SELECT coalesce(sum(in_flight), 0) FROM job_counts
           WHERE job_counts.tenant_id = %(tenant_id)s) < %(in_flight_limit)s
      AND """
_INSERT_LIMITED = _INSERT_JOB_AND_MESSAGE.format(limit=_WITHIN_LIMIT)
_INSERT_UNLIMITED = _INSERT_JOB_AND_MESSAGE.format(limit="")


def _params(job: PendingJob, lanes: Sequence[Lane]) -> Params:
    entrypoint, headers = message_of(lanes, job.job_type, job.tenant_id)
    return {
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
        "in_flight_limit": job.in_flight_limit,
        "entrypoint": entrypoint,
        "headers": None if headers is None else Jsonb(headers),
        "payload": job.id.bytes,
        "delay_s": float(max(job.delay_s, 0.0)),
    }


def _attempts_table(*extra: tuple[str, Any]) -> TableValuedAlias:
    """`unnest` of the array parameters `:ids`, `:attempts` and any `extra` (name, element
    type), as a table of one row per attempt: a batch's rows are parameters, and its statement
    keeps one shape (prepared once) however many attempts it names."""
    arrays = [bindparam("ids", type_=ARRAY(Uuid())), bindparam("attempts", type_=ARRAY(Integer()))]
    arrays += [bindparam(f"{name}s", type_=ARRAY(kind)) for name, kind in extra]
    names = ["id", "attempt", *(name for name, _ in extra)]
    return func.unnest(*arrays).table_valued(*names).render_derived(name="batch")


def _progress() -> ReturningUpdate[Any]:
    c, batch = jobs_table.c, _attempts_table(("percent", Integer()), ("message", Text()))
    now = bindparam("now", type_=c.updated_at.type)
    return (
        update(jobs_table)
        .where(c.id == batch.c.id, c.attempt == batch.c.attempt, c.status == "processing")
        .values(
            seq=c.seq + 1,
            progress_percent=func.greatest(c.progress_percent, batch.c.percent),
            progress_message=batch.c.message,
            heartbeat_at=now,
            updated_at=now,
        )
        .returning(*PROGRESS_RETURNED, _SIGNAL)
    )


def _heartbeat() -> ReturningUpdate[Any]:
    c, batch = jobs_table.c, _attempts_table()
    return (
        update(jobs_table)
        .where(c.id == batch.c.id, c.attempt == batch.c.attempt, c.status == "processing")
        .values(**BEAT, heartbeat_at=bindparam("now", type_=c.heartbeat_at.type))
        .returning(c.id, c.attempt)
    )


_SIGNAL = signal_in_returning(jobs_table)
_PROGRESS, _HEARTBEAT = _progress(), _heartbeat()


class PostgresWrites:
    """Each write sends its rows' change signals itself; a batch is one statement of constant
    shape, its rows array parameters."""

    signal: tuple[ColumnElement[object], ...] = (_SIGNAL,)

    async def progress(
        self, session: AsyncSession, reports: Sequence[ProgressReport], now: datetime
    ) -> Sequence[Row[Any]]:
        params = {
            "ids": [r.job_id for r in reports],
            "attempts": [r.attempt for r in reports],
            "percents": [r.percent for r in reports],
            "messages": [r.message for r in reports],
            "now": now,
        }
        rows: Sequence[Row[Any]] = (await session.execute(_PROGRESS, params)).all()
        return rows

    async def heartbeat(
        self, session: AsyncSession, attempts: Sequence[Attempt], now: datetime
    ) -> set[Attempt]:
        params = {"ids": [i for i, _ in attempts], "attempts": [n for _, n in attempts], "now": now}
        return {(row.id, row.attempt) for row in await session.execute(_HEARTBEAT, params)}


POSTGRES_WRITES = PostgresWrites()


class PostgresJobStore:
    """Creates jobs in one statement and claims them in batches (see the module docstring)."""

    writes: JobWrites = POSTGRES_WRITES

    def __init__(
        self,
        conninfo: str,
        sessionmaker: SessionMaker,
        *,
        lanes: Sequence[Lane],
        clock: Clock,
        max_connections: int,
        timeout_s: float = 5.0,
    ) -> None:
        """`timeout_s`: how long a creation may wait for a connection before it gives up (a
        503 that says to retry), as the SQLAlchemy pool's checkout does."""
        self.lanes = lanes
        self.claims = ClaimBatcher(autocommit_sessionmaker(sessionmaker), clock, self.writes)
        self.pool = AsyncConnectionPool(
            conninfo,
            min_size=1,
            max_size=max_connections,
            kwargs={"autocommit": True},
            timeout=timeout_s,
            open=False,
            # a connection the server ended (a restart) is replaced when taken, not when it fails
            check=AsyncConnectionPool.check_connection,
        )

    async def open(self) -> None:
        await self.pool.open()

    async def close(self) -> None:
        await self.pool.close()

    async def create(self, session: AsyncSession, job: PendingJob) -> bool:
        statement = _INSERT_UNLIMITED if job.in_flight_limit is None else _INSERT_LIMITED
        params = _params(job, self.lanes)
        if session.in_transaction():
            raw = await (await session.connection()).get_raw_connection()
            connection: psycopg.AsyncConnection[Any] = raw.driver_connection  # type: ignore[assignment]
            return await (await connection.execute(statement, params)).fetchone() is not None
        return await self._create_at_once(statement, params)

    async def _create_at_once(self, statement: str, params: Params) -> bool:
        for last_try in (False, True):
            try:
                async with self.pool.connection() as conn:
                    cursor = await conn.execute(statement, params)
                    return await cursor.fetchone() is not None
            except pg_errors.UniqueViolation:
                if last_try:  # the first try committed before its connection died
                    return True
                raise
            except psycopg.OperationalError:
                if last_try:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def claim(self, job_id: uuid.UUID) -> Job | None:
        return await self.claims.claim(job_id)
