"""SQL for jobs: every write a worker makes is fenced by the attempt number, so a stale attempt
matches no row; each change bumps `seq`."""

from __future__ import annotations

import functools
import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Row, and_, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningUpdate, Update

from practicegen.db.models import Job, core_table
from practicegen.db.pagination import after_cursor, split_page
from practicegen.jobs.events import CHANGE_COLUMNS, JobChange, mark_changed

LIVE = ("pending", "processing")
jobs_table = core_table(Job)
_GET = select(jobs_table).where(
    jobs_table.c.tenant_id == bindparam("tenant_id"), jobs_table.c.id == bindparam("job_id")
)

Attempt = tuple[uuid.UUID, int]
Values = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ProgressReport:
    """The newest progress one attempt has to record."""

    job_id: uuid.UUID
    attempt: int
    percent: int
    message: str


NOW = bindparam("now", type_=jobs_table.c.updated_at.type)


def _of_attempts(batch: FromClause) -> ColumnElement[bool]:
    """The rows of the attempts in `batch` (its `id` and `attempt` columns), while processing."""
    c = jobs_table.c
    return and_(c.id == batch.c.id, c.attempt == batch.c.attempt, c.status == "processing")


def progress_update(batch: FromClause, percent: Any) -> ReturningUpdate[tuple[Any, ...]]:
    """The UPDATE of the progress of `batch`'s attempts to `percent` and its `message` at `:now`,
    returning a `JobChange`'s fields but its time."""
    c = jobs_table.c
    return (
        update(jobs_table)
        .where(_of_attempts(batch))
        .values(
            seq=c.seq + 1,
            progress_percent=percent,
            progress_message=batch.c.message,
            heartbeat_at=NOW,
            updated_at=NOW,
        )
        .returning(*(c[name] for name in CHANGE_COLUMNS[:-1]))
    )


def heartbeat_update(batch: FromClause) -> ReturningUpdate[Any]:
    """The UPDATE of the heartbeats of `batch`'s attempts at `:now` (no change a client sees),
    returning the attempts it beat."""
    c = jobs_table.c
    return (
        update(jobs_table)
        .where(_of_attempts(batch))
        .values(updated_at=c.updated_at, heartbeat_at=NOW)
        .returning(c.id, c.attempt)
    )


class JobWrites(ABC):
    """The writes a job store's database makes its own way (`pg_store`, `sqlite_store`): its
    `progress_update` and `heartbeat_update`, each given a batch as the database takes one."""

    signal: tuple[ColumnElement[object], ...] = ()  # added to a write's RETURNING, if one is sent

    def __init__(self, progress: Update, heartbeat: Update) -> None:
        self._progress = progress
        self._heartbeat = heartbeat

    @abstractmethod
    def batch(self, ids: list[uuid.UUID], attempts: list[int], *extra: list[Any]) -> Values:
        """The parameters that pass a batch's columns: ids, attempts, then percents, messages."""

    async def progress(
        self, session: AsyncSession, reports: Sequence[ProgressReport], now: datetime
    ) -> Sequence[Row[Any]]:
        """Record each attempt's progress (never down) in one statement; its rows."""
        batch = self.batch(
            [r.job_id for r in reports],
            [r.attempt for r in reports],
            [r.percent for r in reports],
            [r.message for r in reports],
        )
        return (await session.execute(self._progress, {**batch, "now": now})).all()

    async def heartbeat(
        self, session: AsyncSession, attempts: Sequence[Attempt], now: datetime
    ) -> set[Attempt]:
        """Beat for each attempt in one statement; those that still own their jobs."""
        batch = self.batch([i for i, _ in attempts], [n for _, n in attempts])
        rows = await session.execute(self._heartbeat, {**batch, "now": now})
        return {(row.id, row.attempt) for row in rows}


def _job_of(row: Row[Any]) -> Job:
    """A job row read through Core, as a `Job` no session tracks."""
    return Job(**{key: row._mapping[column] for key, column in jobs_table.c.items()})


def _returning_job(statement: Update, writes: JobWrites) -> ReturningUpdate[Any]:
    return statement.values(seq=jobs_table.c.seq + 1).returning(*jobs_table.c, *writes.signal)


@functools.cache
def _claim(writes: JobWrites) -> ReturningUpdate[Any]:
    """`JobRepository.claim_many`'s statement, built once: `:job_ids` and `:now` are parameters."""
    statement = (
        update(jobs_table)
        .where(jobs_table.c.id.in_(bindparam("job_ids", expanding=True)))
        .where(jobs_table.c.status.in_(LIVE))
        .values(
            status="processing",
            attempt=jobs_table.c.attempt + 1,
            started_at=NOW,
            heartbeat_at=NOW,
            updated_at=NOW,
            progress_message="Starting...",
        )
    )
    return _returning_job(statement, writes)


@functools.cache
def _finish(columns: tuple[str, ...], writes: JobWrites) -> ReturningUpdate[Any]:
    """`JobRepository.finish`'s statement, built once per set of columns set from `new_<name>`."""
    c = jobs_table.c
    values = {name: bindparam(f"new_{name}", type_=c[name].type) for name in columns}
    statement = (
        update(jobs_table)
        .where(c.id == bindparam("job_id"), c.attempt == bindparam("of_attempt"))
        .where(c.status == "processing")
        .values(**values)
    )
    return _returning_job(statement, writes)


class JobRepository:
    def __init__(self, session: AsyncSession, writes: JobWrites | None = None) -> None:
        """`writes`: the store's own writes, needed by every method that changes a job."""
        self.session = session
        self._writes = writes

    @property
    def writes(self) -> JobWrites:
        assert self._writes is not None, "a repository that writes jobs needs the store's writes"
        return self._writes

    async def get(self, tenant_id: uuid.UUID, job_id: uuid.UUID) -> Job | None:
        """The job, read through Core (every status poll reads one), not attached to the session."""
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
        asked = [(Job.status, status), (Job.student_id, student_id), (Job.job_type, job_type)]
        query = query.where(*(column == value for column, value in asked if value is not None))
        query = after_cursor(query, Job.created_at, Job.id, cursor, limit)
        return split_page(list((await self.session.execute(query)).scalars()), limit)

    async def unfinished(self) -> Sequence[Row[uuid.UUID, str, uuid.UUID]]:
        """Every pending or processing job's id, type and tenant, oldest first."""
        query = select(Job.id, Job.job_type, Job.tenant_id).where(Job.status.in_(LIVE))
        return (await self.session.execute(query.order_by(Job.created_at))).all()

    async def _updated(
        self, statement: ReturningUpdate[Any], params: dict[str, Any] | None = None
    ) -> Job | None:
        """Run an UPDATE ... RETURNING of one job through Core, marking its change."""
        row = (await self.session.execute(statement, params)).first()
        return None if row is None else self._changed(row)

    def _changed(self, row: Row[Any]) -> Job:
        """The job an UPDATE ... RETURNING gave back, its change marked for this process."""
        job = _job_of(row)
        mark_changed(self.session.sync_session, JobChange.of(job))
        return job

    async def claim_many(self, job_ids: Sequence[uuid.UUID], now: datetime) -> dict[uuid.UUID, Job]:
        """A new attempt of each live job of `job_ids`, in one statement; those started, by id."""
        params = {"job_ids": list(job_ids), "now": now}
        rows = await self.session.execute(_claim(self.writes), params)
        return {job.id: job for job in map(self._changed, rows)}

    async def progress_many(self, reports: Sequence[ProgressReport], now: datetime) -> set[Attempt]:
        """Record attempts' progress in one statement; the attempts that still own their jobs."""
        rows = await self.writes.progress(self.session, reports, now)
        for row in rows:
            mark_changed(self.session.sync_session, JobChange(*row[:6], updated_at=now))
        return {(row.id, row.attempt) for row in rows}

    async def finish(
        self, job_id: uuid.UUID, attempt: int, values: Values, now: datetime
    ) -> Job | None:
        """Move the attempt's job to a terminal state (or back to pending); fenced."""
        values = {"updated_at": now, **values}
        params = {f"new_{name}": value for name, value in values.items()}
        statement = _finish(tuple(sorted(values)), self.writes)
        return await self._updated(statement, params | {"job_id": job_id, "of_attempt": attempt})

    async def cancel(self, tenant_id: uuid.UUID, job_id: uuid.UUID, now: datetime) -> Job | None:
        values = {
            "status": "cancelled",
            "cancel_requested": True,
            "error": "Cancelled by request.",
            "error_code": "cancelled",
            "finished_at": now,
            "updated_at": now,
        }
        return await self._change(tenant_id, job_id, LIVE, values)

    async def reopen(
        self, tenant_id: uuid.UUID, job_id: uuid.UUID, max_attempts_more: int, now: datetime
    ) -> Job | None:
        """A failed or cancelled job back to pending, with a fresh budget of attempts."""
        values = {
            "status": "pending",
            "max_attempts": jobs_table.c.attempt + max_attempts_more,
            "cancel_requested": False,
            "error": None,
            "error_code": None,
            "result": None,
            "progress_percent": 0,
            "progress_message": "Queued again.",
            "finished_at": None,
            "expires_at": None,
            "updated_at": now,
        }
        return await self._change(tenant_id, job_id, ("failed", "cancelled"), values)

    async def _change(
        self, tenant_id: uuid.UUID, job_id: uuid.UUID, statuses: Sequence[str], values: Values
    ) -> Job | None:
        """The tenant's job set to `values` if its status is one of `statuses`."""
        c = jobs_table.c
        where = (c.tenant_id == tenant_id, c.id == job_id, c.status.in_(statuses))
        return await self._updated(
            _returning_job(update(jobs_table).where(*where).values(values), self.writes)
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
