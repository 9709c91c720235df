"""The job store on SQLite (embedded mode): the job row through the caller's session, its
message handed to the in-memory queue once that session commits.

The tenant's limit on jobs in flight is counted here, in the INSERT itself, through the partial
index of migration 007 (`IN_FLIGHT_PREDICATE`, literals so SQLite's planner matches the index);
on PostgreSQL migration 008's triggers keep the count instead (`pg_store`).
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from typing import Any

from sqlalchemy import Integer, bindparam, exists, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from practicegen.db.engine import SessionMaker
from practicegen.db.models import Job, Student, core_table
from practicegen.jobs.queue import JobQueue
from practicegen.jobs.store import ClaimBatcher, Clock, IdempotencyKeyInFlight, PendingJob

_jobs = core_table(Job)

# The jobs counted against a tenant's limit: the predicate of the partial index jobs_in_flight
# (migration 007) and of the count migration 008's triggers keep on PostgreSQL.
IN_FLIGHT_PREDICATE = (
    "jobs.status IN ('pending', 'processing') AND jobs.job_type <> 'webhook_delivery'"
)


@functools.cache
def _insert(columns: tuple[str, ...], limited: bool) -> ReturningInsert[Any]:
    """INSERT ... SELECT the given columns' values WHERE (if `limited`) the tenant's jobs in
    flight are fewer than `:in_flight_limit` and, for a student's job, the student is the
    tenant's; built once per set of columns, the values are parameters."""
    given = [_jobs.c[name] for name in columns]
    tenant = bindparam("new_tenant_id", type_=Job.tenant_id.type)
    values = {c.key: bindparam(f"new_{c.key}", type_=c.type) for c in given}
    row = select(*values.values())
    if limited:
        limit = bindparam("in_flight_limit", type_=Integer)
        live = select(Job.id).where(Job.tenant_id == tenant, text(IN_FLIGHT_PREDICATE)).limit(limit)
        row = row.where(select(func.count()).select_from(live.subquery()).scalar_subquery() < limit)
    if "student_id" in values:
        row = row.where(
            exists().where(Student.tenant_id == tenant, Student.id == values["student_id"])
        )
    # Core, not the ORM's bulk-insert reading of parameters
    return insert(_jobs).from_select(given, row).returning(_jobs.c.id)


class SqliteJobStore:
    def __init__(self, sessionmaker: SessionMaker, queue: JobQueue, clock: Clock) -> None:
        self.queue = queue
        self.claims = ClaimBatcher(sessionmaker, clock)

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def create(
        self,
        session: AsyncSession,
        job: PendingJob,
        *,
        in_flight_limit: int | None,
        delay_s: float = 0,
    ) -> bool:
        columns = {
            key: value
            for key, value in dataclasses.asdict(job).items()
            if key != "student_id" or value is not None
        }
        columns["updated_at"] = job.updated_at
        params = {f"new_{key}": value for key, value in columns.items()}
        params["in_flight_limit"] = in_flight_limit
        statement = _insert(tuple(columns), in_flight_limit is not None)
        if job.idempotency_key is None:
            inserted = (await session.execute(statement, params)).first() is not None
        else:
            try:
                async with session.begin_nested():
                    inserted = (await session.execute(statement, params)).first() is not None
            except IntegrityError as exc:  # the same key's first request has not committed yet
                raise IdempotencyKeyInFlight() from exc
        if inserted:
            await self.queue.enqueue(
                session, job.id, delay_s=delay_s, job_type=job.job_type, tenant_id=job.tenant_id
            )
        return inserted

    async def claim(self, job_id: uuid.UUID) -> Job | None:
        return await self.claims.claim(job_id)
