"""SQL for jobs. Every write a worker makes is fenced by the attempt number.

A worker that lost its job (it stalled, its job was re-picked by another worker, or a client
cancelled it) holds a stale attempt number; its writes then match no row and it learns it must
stop, so a zombie attempt can never overwrite a newer one. Each change bumps `seq`.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    Result,
    Row,
    Text,
    Uuid,
    bindparam,
    case,
    func,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningUpdate, Update
from sqlalchemy.sql.selectable import TableValuedAlias

from practicegen.db.models import Job, core_table
from practicegen.db.pagination import after_cursor, split_page
from practicegen.jobs.events import JobChange, mark_changed, signal_in_returning

_LIVE = ("pending", "processing")
_jobs = core_table(Job)
_IS_LIVE = _jobs.c.status.in_(_LIVE)
_SIGNAL = signal_in_returning(_jobs)
_GET = select(_jobs).where(
    _jobs.c.tenant_id == bindparam("tenant_id"), _jobs.c.id == bindparam("job_id")
)


def _job_of(row: Row[Any]) -> Job:
    """A job row read through Core, as a `Job` no session tracks."""
    return Job(**{key: row._mapping[column] for key, column in _jobs.c.items()})


@dataclass(frozen=True, slots=True)
class ProgressReport:
    """The newest progress one attempt has to record."""

    job_id: uuid.UUID
    attempt: int
    percent: int
    message: str


def _returning_job(statement: Update, signal: bool) -> ReturningUpdate[Any]:
    """RETURNING the whole job and, on PostgreSQL (`signal`), sending its change signal."""
    return statement.returning(*_jobs.c, *([_SIGNAL] if signal else []))


@functools.cache
def _claim(signal: bool) -> ReturningUpdate[Any]:
    """`JobRepository.claim_many`'s statement, built once: `:job_ids` (expanded into the IN
    list) and `:now` are parameters."""
    now = bindparam("now", type_=_jobs.c.updated_at.type)
    statement = (
        update(_jobs)
        .where(_jobs.c.id.in_(bindparam("job_ids", expanding=True)), _IS_LIVE)
        .values(
            seq=_jobs.c.seq + 1,
            status="processing",
            attempt=_jobs.c.attempt + 1,
            started_at=now,
            heartbeat_at=now,
            updated_at=now,
            progress_message="Starting...",
        )
    )
    return _returning_job(statement, signal)


@functools.cache
def _finish(columns: tuple[str, ...], signal: bool) -> ReturningUpdate[Any]:
    """`JobRepository.finish`'s statement, built once per set of columns it sets: the running
    attempt's job (`:job_id`, `:of_attempt`), each column set to the parameter `new_<column>`."""
    c = _jobs.c
    values = {name: bindparam(f"new_{name}", type_=c[name].type) for name in columns}
    statement = (
        update(_jobs)
        .where(c.id == bindparam("job_id"), c.attempt == bindparam("of_attempt"))
        .where(c.status == "processing")
        .values(seq=c.seq + 1, **values)
    )
    return _returning_job(statement, signal)


_PROGRESS_RETURNED = [
    _jobs.c[name]
    for name in ("id", "seq", "status", "progress_percent", "progress_message", "attempt")
]


# A heartbeat is not a change a client sees: `updated_at` keeps its value (its column's
# onupdate default would otherwise move it on every beat, with `seq` and the ETag unchanged).
_BEAT = {"updated_at": _jobs.c.updated_at}


def _attempts_table(*extra: tuple[str, Any]) -> TableValuedAlias:
    """`unnest` of the array parameters `:ids`, `:attempts` and any `extra` (name, element
    type), as a table of one row per attempt: on PostgreSQL a batch's rows are parameters, and
    its statement keeps one shape (prepared once) however many attempts it names."""
    arrays = [bindparam("ids", type_=ARRAY(Uuid())), bindparam("attempts", type_=ARRAY(Integer()))]
    arrays += [bindparam(f"{name}s", type_=ARRAY(kind)) for name, kind in extra]
    names = ["id", "attempt", *(name for name, _ in extra)]
    return func.unnest(*arrays).table_valued(*names).render_derived(name="batch")


def _progress_on_postgres() -> ReturningUpdate[Any]:
    """`JobRepository.progress_many` on PostgreSQL, as one statement of constant shape."""
    c, batch = _jobs.c, _attempts_table(("percent", Integer()), ("message", Text()))
    now = bindparam("now", type_=c.updated_at.type)
    return (
        update(_jobs)
        .where(c.id == batch.c.id, c.attempt == batch.c.attempt, c.status == "processing")
        .values(
            seq=c.seq + 1,
            progress_percent=func.greatest(c.progress_percent, batch.c.percent),
            progress_message=batch.c.message,
            heartbeat_at=now,
            updated_at=now,
        )
        .returning(*_PROGRESS_RETURNED, _SIGNAL)
    )


def _heartbeat_on_postgres() -> ReturningUpdate[Any]:
    """`JobRepository.heartbeat_many` on PostgreSQL, as one statement of constant shape."""
    c, batch = _jobs.c, _attempts_table()
    return (
        update(_jobs)
        .where(c.id == batch.c.id, c.attempt == batch.c.attempt, c.status == "processing")
        .values(**_BEAT, heartbeat_at=bindparam("now", type_=c.heartbeat_at.type))
        .returning(c.id, c.attempt)
    )


_PROGRESS_ON_POSTGRES = _progress_on_postgres()
_HEARTBEAT_ON_POSTGRES = _heartbeat_on_postgres()


class JobRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._on_postgres = session.get_bind().dialect.name == "postgresql"

    async def get(self, tenant_id: uuid.UUID, job_id: uuid.UUID) -> Job | None:
        """The job, not attached to the session (read through Core: every status poll reads
        one, and the ORM's loading cost more than the query)."""
        params = {"tenant_id": tenant_id, "job_id": job_id}
        row = (await self.session.execute(_GET, params)).first()
        return None if row is None else _job_of(row)

    async def get_by_idempotency_key(self, tenant_id: uuid.UUID, key: str) -> Job | None:
        query = select(Job).where(Job.tenant_id == tenant_id, Job.idempotency_key == key)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def list_page(
        self,
        tenant_id: uuid.UUID,
        *,
        status: str | None,
        student_id: uuid.UUID | None,
        job_type: str | None,
        cursor: str | None,
        limit: int,
        job_types: Sequence[str] | None = None,
    ) -> tuple[list[Job], str | None]:
        """`job_types`: only jobs of these types (what a student token may see)."""
        query = select(Job).where(Job.tenant_id == tenant_id)
        if job_types is not None:
            query = query.where(Job.job_type.in_(job_types))
        if status is not None:
            query = query.where(Job.status == status)
        if student_id is not None:
            query = query.where(Job.student_id == student_id)
        if job_type is not None:
            query = query.where(Job.job_type == job_type)
        query = after_cursor(query, Job.created_at, Job.id, cursor, limit)
        return split_page(list((await self.session.execute(query)).scalars()), limit)

    async def unfinished(self) -> Sequence[Row[uuid.UUID, str, uuid.UUID]]:
        """Every pending or processing job's id, type and tenant, oldest first."""
        query = select(Job.id, Job.job_type, Job.tenant_id).where(Job.status.in_(_LIVE))
        return (await self.session.execute(query.order_by(Job.created_at))).all()

    async def _update(self, where: list[Any], values: dict[str, Any]) -> Job | None:
        """One UPDATE ... RETURNING of the job, built for the call (for the rarer writes)."""
        statement = update(_jobs).where(*where).values(seq=_jobs.c.seq + 1, **values)
        return await self._updated(_returning_job(statement, self._on_postgres), {})

    async def _updated(self, statement: ReturningUpdate[Any], params: dict[str, Any]) -> Job | None:
        """Run an UPDATE ... RETURNING of one job (through Core: the ORM's bulk-update path cost
        more than the statement), which on PostgreSQL also sends its change signal."""
        row = (await self.session.execute(statement, params)).first()
        return None if row is None else self._changed(row)

    def _changed(self, row: Row[Any]) -> Job:
        """The job an UPDATE ... RETURNING gave back, its change marked for this process."""
        job = _job_of(row)
        mark_changed(self.session.sync_session, JobChange.of(job))
        return job

    async def claim_many(self, job_ids: Sequence[uuid.UUID], now: datetime) -> dict[uuid.UUID, Job]:
        """Start a new attempt of each live job of `job_ids`, in one statement; the jobs
        started, by id (a finished or cancelled job is left out)."""
        params = {"job_ids": list(job_ids), "now": now}
        rows = await self.session.execute(_claim(self._on_postgres), params)
        return {job.id: job for job in map(self._changed, rows)}

    async def progress_many(
        self, reports: Sequence[ProgressReport], now: datetime
    ) -> set[tuple[uuid.UUID, int]]:
        """Record attempts' progress in one statement (percent never goes down, each attempt's
        heartbeat moves, each job's `seq` grows and, as in `_updated`, its change is signalled);
        returns the attempts that still own their jobs."""
        if not reports:
            return set()
        if self._on_postgres:
            params = {
                "ids": [r.job_id for r in reports],
                "attempts": [r.attempt for r in reports],
                "percents": [r.percent for r in reports],
                "messages": [r.message for r in reports],
                "now": now,
            }
            rows = (await self.session.execute(_PROGRESS_ON_POSTGRES, params)).all()
        else:
            rows = (await self._progress_on_sqlite(reports, now)).all()
        for row in rows:
            change = JobChange(
                row.id,
                row.seq,
                row.status,
                row.progress_percent,
                row.progress_message,
                row.attempt,
                now,
            )
            mark_changed(self.session.sync_session, change)
        return {(row.id, row.attempt) for row in rows}

    async def _progress_on_sqlite(
        self, reports: Sequence[ProgressReport], now: datetime
    ) -> Result[Any]:
        """The embedded database's few jobs: each attempt's values written out in CASEs."""
        c = _jobs.c
        percent = case(
            {
                r.job_id: case(
                    (c.progress_percent > r.percent, c.progress_percent), else_=r.percent
                )
                for r in reports
            },
            value=c.id,
            else_=c.progress_percent,
        )
        message = case({r.job_id: r.message for r in reports}, value=c.id, else_=c.progress_message)
        statement = (
            update(_jobs)
            .where(
                tuple_(c.id, c.attempt).in_([(r.job_id, r.attempt) for r in reports]),
                c.status == "processing",
            )
            .values(
                seq=c.seq + 1,
                progress_percent=percent,
                progress_message=message,
                heartbeat_at=now,
                updated_at=now,
            )
            .returning(*_PROGRESS_RETURNED)
        )
        # one shape per batch size: not worth a place in the compiled statement cache
        return await self.session.execute(statement, execution_options={"compiled_cache": None})

    async def heartbeat_many(
        self, attempts: list[tuple[uuid.UUID, int]], now: datetime
    ) -> set[tuple[uuid.UUID, int]]:
        """Beat for many attempts at once; returns the ones that still own their jobs."""
        if self._on_postgres:
            ids, numbers = [job_id for job_id, _ in attempts], [n for _, n in attempts]
            params = {"ids": ids, "attempts": numbers, "now": now}
            rows = await self.session.execute(_HEARTBEAT_ON_POSTGRES, params)
            return {(row.id, row.attempt) for row in rows}
        statement = (
            update(_jobs)
            .where(
                tuple_(_jobs.c.id, _jobs.c.attempt).in_(attempts), _jobs.c.status == "processing"
            )
            .values(**_BEAT, heartbeat_at=now)
            .returning(_jobs.c.id, _jobs.c.attempt)
        )
        return {(row.id, row.attempt) for row in await self.session.execute(statement)}

    async def finish(
        self, job_id: uuid.UUID, attempt: int, values: dict[str, Any], now: datetime
    ) -> Job | None:
        """Move the attempt's job to a terminal state (or back to pending); fenced."""
        values = {"updated_at": now, **values}
        params = {f"new_{name}": value for name, value in values.items()}
        statement = _finish(tuple(sorted(values)), self._on_postgres)
        return await self._updated(statement, params | {"job_id": job_id, "of_attempt": attempt})

    async def cancel(self, tenant_id: uuid.UUID, job_id: uuid.UUID, now: datetime) -> Job | None:
        return await self._update(
            [_jobs.c.tenant_id == tenant_id, _jobs.c.id == job_id, _IS_LIVE],
            {
                "status": "cancelled",
                "cancel_requested": True,
                "error": "Cancelled by request.",
                "error_code": "cancelled",
                "finished_at": now,
                "updated_at": now,
            },
        )

    async def reopen(
        self, tenant_id: uuid.UUID, job_id: uuid.UUID, max_attempts_more: int, now: datetime
    ) -> Job | None:
        """A failed or cancelled job back to pending, with a fresh budget of attempts."""
        return await self._update(
            [
                _jobs.c.tenant_id == tenant_id,
                _jobs.c.id == job_id,
                _jobs.c.status.in_(("failed", "cancelled")),
            ],
            {
                "status": "pending",
                "max_attempts": _jobs.c.attempt + max_attempts_more,
                "cancel_requested": False,
                "error": None,
                "error_code": None,
                "result": None,
                "progress_percent": 0,
                "progress_message": "Queued again.",
                "finished_at": None,
                "expires_at": None,
                "updated_at": now,
            },
        )

    async def expire_results(self, now: datetime) -> int:
        statement = (
            update(Job)
            .where(Job.expires_at <= now, Job.result.is_not(None))
            .values(result=None)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(statement)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
