"""The job store on SQLite: the job row through the caller's session, its message handed to the
queue once that commits (or, with no transaction open, both at once); the in-flight limit,
checked in the INSERT, is exact with one writer."""

from __future__ import annotations

import functools
import json
import uuid
from typing import Any

from sqlalchemy import Integer, Subquery, bindparam, case, column, exists, func, select, table, true
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from practicegen.clock import Clock
from practicegen.db.engine import SessionMaker
from practicegen.db.models import Job, Student, bank_version_of
from practicegen.db.sqlite_driver import committing
from practicegen.jobs.queue import EmbeddedQueue
from practicegen.jobs.repository import (
    JobWrites,
    Values,
    heartbeat_update,
    jobs_table,
    progress_update,
)
from practicegen.jobs.store import ClaimBatcher, PendingJob

_counts = table("job_counts", column("tenant_id", Job.tenant_id.type), column("in_flight", Integer))


@functools.cache
def _insert(columns: tuple[str, ...], limited: bool, versioned: bool) -> ReturningInsert[Any]:
    """INSERT ... SELECT the columns' values WHERE (if `limited`) the tenant is below its limit,
    (if `versioned`) its bank has the version given, and the student is the tenant's, doing
    nothing for a used Idempotency-Key."""
    given = [jobs_table.c[name] for name in columns]
    tenant = bindparam("new_tenant_id", type_=Job.tenant_id.type)
    values = {c.key: bindparam(f"new_{c.key}", type_=c.type) for c in given}
    row = select(*values.values()).where(true())  # SQLite's upsert wants a WHERE to parse
    if limited:
        limit = bindparam("in_flight_limit", type_=Integer)
        counted = select(func.coalesce(func.sum(_counts.c.in_flight), 0))
        row = row.where(counted.where(_counts.c.tenant_id == tenant).scalar_subquery() < limit)
    if versioned:
        bank = bank_version_of(tenant).scalar_subquery()
        row = row.where(bank == bindparam("bank_version", type_=Integer))
    if "student_id" in values:
        row = row.where(
            exists().where(Student.tenant_id == tenant, Student.id == values["student_id"])
        )
    # Core, not the ORM's bulk-insert reading of parameters
    statement = insert(jobs_table).from_select(given, row)
    used_key = statement.on_conflict_do_nothing(index_elements=["tenant_id", "idempotency_key"])
    return used_key.returning(jobs_table.c.id)


def _batch(*extra: str) -> Subquery:
    """The rows of `:batch`, a JSON array of `[id hex, attempt, *extra]` arrays, as a table:
    one statement for any batch (each job's row found by its key)."""
    each = func.json_each(bindparam("batch")).table_valued("value").alias("each")
    names = ("id", "attempt", *extra)
    fields = [func.json_extract(each.c.value, f"$[{i}]").label(n) for i, n in enumerate(names)]
    return select(*fields).subquery("batch")


_REPORTS = _batch("percent", "message")
_PROGRESS = progress_update(
    _REPORTS,
    case(
        (jobs_table.c.progress_percent > _REPORTS.c.percent, jobs_table.c.progress_percent),
        else_=_REPORTS.c.percent,
    ),
)
_HEARTBEAT = heartbeat_update(_batch())


class SqliteWrites(JobWrites):
    """The embedded database's: a batch's rows in one JSON parameter, and no signal, as one
    process watches its jobs."""

    def batch(self, ids: list[uuid.UUID], attempts: list[int], *extra: list[Any]) -> Values:
        return {
            "batch": json.dumps(
                [[i.hex, *rest] for i, *rest in zip(ids, attempts, *extra, strict=True)]
            )
        }


SQLITE_WRITES = SqliteWrites(_PROGRESS, _HEARTBEAT)


class SqliteJobStore:
    writes: JobWrites = SQLITE_WRITES

    def __init__(self, sessionmaker: SessionMaker, queue: EmbeddedQueue, clock: Clock) -> None:
        self.queue = queue
        self.claims = ClaimBatcher(sessionmaker, clock, self.writes)
        self.engine: AsyncEngine = sessionmaker.kw["bind"]

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def create(self, session: AsyncSession, job: PendingJob) -> bool:
        columns = {k: v for k, v in job.columns().items() if k != "student_id" or v is not None}
        params = {f"new_{key}": value for key, value in columns.items()}
        params["in_flight_limit"] = job.in_flight_limit
        params["bank_version"] = job.bank_version
        limited, versioned = job.in_flight_limit is not None, job.bank_version is not None
        statement = _insert(tuple(columns), limited, versioned)
        if session.in_transaction():
            inserted = (await session.execute(statement, params)).first() is not None
        else:  # none open: committed at once, in one trip at most
            async with self.engine.connect() as connection, committing(connection):
                inserted = (await connection.execute(statement, params)).first() is not None
                await connection.commit()
        if inserted:  # its message is handed over once the row commits (at once if it has)
            await self.queue.enqueue(
                session, job.id, delay_s=job.delay_s, job_type=job.job_type, tenant_id=job.tenant_id
            )
        return inserted
