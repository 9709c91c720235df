"""The job store on PostgreSQL: a job's row and its queue message in one statement, in the
caller's open transaction, else on a psycopg pool of its own; workers are woken once it commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import Integer, Text, Uuid, bindparam, event, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import TableValuedAlias

from practicegen.clock import Clock
from practicegen.db.engine import SessionMaker, autocommit_sessionmaker
from practicegen.db.liveness import PsycopgChecks
from practicegen.jobs import queue_wakeup
from practicegen.jobs.events import signal_in_returning
from practicegen.jobs.lanes import Lane
from practicegen.jobs.queue import message_of
from practicegen.jobs.repository import JobWrites, heartbeat_update, jobs_table, progress_update
from practicegen.jobs.store import JOB_COLUMNS, ClaimBatcher, PendingJob

Params = dict[str, Any]

_INSERT_JOB_AND_MESSAGE = """
WITH quiet AS MATERIALIZED (
    SELECT set_config('{wakeup}', 'after_commit', true)
), job AS (
    INSERT INTO jobs ({columns})
    SELECT {values} FROM quiet
    WHERE {limit}{version}(%(student_id)s::uuid IS NULL OR EXISTS (
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
_SAME_BANK = """(SELECT coalesce(sum(version), 0) FROM bank_versions
           WHERE bank_versions.tenant_id = %(tenant_id)s) = %(bank_version)s
      AND """
_INSERTS = {
    (limited, versioned): _INSERT_JOB_AND_MESSAGE.format(
        columns=", ".join(JOB_COLUMNS),
        values=", ".join(f"%({name})s" for name in JOB_COLUMNS),
        limit=_WITHIN_LIMIT if limited else "",
        version=_SAME_BANK if versioned else "",
        wakeup=queue_wakeup.SETTING,
    )
    for limited in (True, False)
    for versioned in (True, False)
}
"""The statement by (whether the job counts against a limit, whether it needs a bank version)."""


def _params(job: PendingJob, lanes: Sequence[Lane]) -> Params:
    entrypoint, headers = message_of(lanes, job.job_type, job.tenant_id)
    return job.columns() | {
        "request": Jsonb(job.request),
        "in_flight_limit": job.in_flight_limit,
        "bank_version": job.bank_version,
        "entrypoint": entrypoint,
        "headers": None if headers is None else Jsonb(headers),
        "payload": job.id.bytes,
        "delay_s": float(max(job.delay_s, 0.0)),
    }


def _attempts_table(*extra: tuple[str, Any]) -> TableValuedAlias:
    """`unnest` of array parameters `:ids`, `:attempts` and `extra`: one shape for any batch."""
    arrays = [bindparam("ids", type_=ARRAY(Uuid())), bindparam("attempts", type_=ARRAY(Integer()))]
    arrays += [bindparam(f"{name}s", type_=ARRAY(kind)) for name, kind in extra]
    names = ["id", "attempt", *(name for name, _ in extra)]
    return func.unnest(*arrays).table_valued(*names).render_derived(name="batch")


_SIGNAL = signal_in_returning(jobs_table)
_BATCH = _attempts_table(("percent", Integer()), ("message", Text()))
_PROGRESS = progress_update(
    _BATCH, func.greatest(jobs_table.c.progress_percent, _BATCH.c.percent)
).returning(_SIGNAL)
_HEARTBEAT = heartbeat_update(_attempts_table())


class PostgresWrites(JobWrites):
    """Each write sends its rows' change signals; a batch's columns are array parameters."""

    signal = (_SIGNAL,)

    def batch(self, ids: list[uuid.UUID], attempts: list[int], *extra: list[Any]) -> Params:
        names = ("ids", "attempts", "percents", "messages")
        return dict(zip(names, (ids, attempts, *extra), strict=False))


POSTGRES_WRITES = PostgresWrites(_PROGRESS, _HEARTBEAT)


class PostgresJobStore:
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
        connect_timeout_s: float = 5.0,
        ping_idle_s: float = 5.0,
    ) -> None:
        """`timeout_s`: a creation's wait for a connection before a 503."""
        self.lanes = lanes
        self.claims = ClaimBatcher(autocommit_sessionmaker(sessionmaker), clock, self.writes)
        checks = PsycopgChecks(ping_idle_s)
        self.pool = AsyncConnectionPool(
            conninfo,
            min_size=1,
            max_size=max_connections,
            kwargs={"autocommit": True},
            timeout=timeout_s,
            open=False,
            # a connection the server ended (a restart) is replaced when taken, not when it fails
            check=checks.check,
            reset=checks.reset,
        )
        self.wakeup = queue_wakeup.QueueWakeup(
            lambda: psycopg.AsyncConnection.connect(
                conninfo, autocommit=True, connect_timeout=max(1, int(connect_timeout_s))
            )
        )

    async def open(self) -> None:
        await self.pool.open()

    async def close(self) -> None:
        await self.wakeup.close()
        await self.pool.close()

    async def create(self, session: AsyncSession, job: PendingJob) -> bool:
        statement = _INSERTS[job.in_flight_limit is not None, job.bank_version is not None]
        params = _params(job, self.lanes)
        if session.in_transaction():
            raw = await (await session.connection()).get_raw_connection()
            connection: psycopg.AsyncConnection[Any] = raw.driver_connection  # type: ignore[assignment]
            # the statement leaves waking the queue to us, once the session commits (autocommit too)
            wake = self.wakeup.after_commit
            event.listen(session.sync_session, "after_commit", lambda _: wake(), once=True)
            return await (await connection.execute(statement, params)).fetchone() is not None
        try:
            inserted = await self._insert_on_pool(statement, params)
        except psycopg.OperationalError:  # its connection died: once more, on another
            try:
                inserted = await self._insert_on_pool(statement, params)
            except pg_errors.UniqueViolation:  # the first try committed before it died
                inserted = True
        if inserted:
            self.wakeup.after_commit()
        return inserted

    async def _insert_on_pool(self, statement: str, params: Params) -> bool:
        async with self.pool.connection() as conn:
            return await (await conn.execute(statement, params)).fetchone() is not None
