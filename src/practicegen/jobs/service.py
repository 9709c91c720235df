"""Creating, reading, listing, cancelling and retrying jobs. An `Idempotency-Key` makes creation
safe to repeat; it is scoped to its caller, so none can take another's."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.auth.principal import Principal
from practicegen.db.models import Job
from practicegen.errors import Conflict, Gone, InvalidRequest, NotFound, RateLimited
from practicegen.jobs.followers import FollowedJob
from practicegen.jobs.queue import JobQueue
from practicegen.jobs.registry import JobTypes
from practicegen.jobs.repository import JobRepository
from practicegen.jobs.schemas import JobStatus
from practicegen.jobs.store import JobStore, PendingJob


class JobNotFound(NotFound):
    code = "job_not_found"
    default_message = "No such job."


class JobExpired(Gone):
    code = "job_expired"
    default_message = "This job finished long ago and its result has been dropped."


class JobNotCancellable(Conflict):
    code = "job_not_cancellable"
    default_message = "Only a pending or processing job can be cancelled."


class JobNotRetryable(Conflict):
    code = "job_not_retryable"
    default_message = "Only a failed or cancelled job can be retried."


class IdempotencyKeyReused(InvalidRequest):
    code = "idempotency_key_reused"
    default_message = "This Idempotency-Key was used with a different request body."


class TooManyJobs(RateLimited):
    code = "too_many_jobs"
    default_message = "Too many jobs in flight for this tenant; retry later."


@dataclass(frozen=True, slots=True)
class NewJob:
    """A job to create. `idempotency_key` is already scoped (`scoped_key`); `in_flight_limit`:
    the tenant's limit this job counts against (None: none); `delay_s`: its first run's wait;
    `bank_version`: the tenant's bank version its request was checked against without reading
    it, so it is created only while that is still the bank's (None: created whatever it is)."""

    tenant_id: uuid.UUID
    job_type: str
    request: dict[str, Any]
    max_attempts: int
    in_flight_limit: int | None
    student_id: uuid.UUID | None = None
    webhook_url: str | None = None
    idempotency_key: str | None = None
    job_id: uuid.UUID | None = None
    delay_s: float = 0
    message: str = "Queued."
    bank_version: int | None = None


@dataclass(frozen=True, slots=True)
class Created:
    job: Job | PendingJob
    replayed: bool


RefusalCheck = Callable[[AsyncSession], Awaitable[None]]
"""Raises the caller's own reason a job was not inserted (say, its student is not the tenant's)."""


def request_hash(job_type: str, request: dict[str, Any]) -> str:
    canonical = json.dumps([job_type, request], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def scoped_key(principal: Principal, key: str) -> str:
    """The key as stored: prefixed by whose it is, as the tenant's keys share one column."""
    if principal.is_student:
        return f"student:{principal.student_id}:{key}"
    if principal.key_id is not None:
        return f"key:{principal.key_id}:{key}"
    return f"tenant:{key}"  # authentication off: one caller


async def create_job(
    session: AsyncSession,
    *,
    store: JobStore,
    new: NewJob,
    now: datetime,
    explain_refusal: RefusalCheck | None = None,
) -> Created:
    """Create `new` in `session`'s transaction (at once if none is open), or replay its key's."""
    key, digest = new.idempotency_key, None
    if key is not None:  # only a keyed request is ever compared with an earlier one
        digest = request_hash(new.job_type, {**new.request, "webhook_url": new.webhook_url})
    pending = PendingJob(
        id=new.job_id or uuid.uuid4(),
        tenant_id=new.tenant_id,
        job_type=new.job_type,
        student_id=new.student_id,
        request=new.request,
        max_attempts=new.max_attempts,
        idempotency_key=key,
        request_hash=digest,
        webhook_url=new.webhook_url,
        created_at=now,
        progress_message=new.message,
        in_flight_limit=new.in_flight_limit,
        delay_s=new.delay_s,
        bank_version=new.bank_version,
    )
    if await store.create(session, pending):
        return Created(job=pending, replayed=False)
    if key is not None:  # nothing inserted: the key may be used already
        earlier = await JobRepository(session).get_by_idempotency_key(new.tenant_id, key)
        if earlier is not None:
            if earlier.request_hash != digest:
                raise IdempotencyKeyReused()
            return Created(job=earlier, replayed=True)
    if explain_refusal is not None:
        await explain_refusal(session)
    raise TooManyJobs(limit=new.in_flight_limit)


async def get_job(
    session: AsyncSession,
    *,
    principal: Principal,
    job_id: uuid.UUID,
    now: datetime,
    views: JobTypes,
) -> Job:
    """The job if `principal` may see it (`visible_job`)."""
    job = await JobRepository(session).get(principal.tenant_id, job_id)
    return visible_job(job, principal=principal, job_id=job_id, now=now, views=views)


V = TypeVar("V", Job, FollowedJob)


def visible_job(
    job: V | None, *, principal: Principal, job_id: uuid.UUID, now: datetime, views: JobTypes
) -> V:
    """`job` (read as `job_id`) if `principal` may see it: a student token sees only its
    student's jobs of the types with a student view; any other job is absent to it."""
    theirs = job is not None and principal.is_student and job.student_id != principal.student_id
    if job is None or job.tenant_id != principal.tenant_id or theirs:
        raise JobNotFound(job_id=str(job_id))
    if not views.visible(principal, job.job_type):
        raise JobNotFound(job_id=str(job_id))
    if job.expires_at is not None and job.expires_at <= now:
        raise JobExpired(job_id=str(job_id), expired_at=job.expires_at.isoformat())
    return job


async def list_jobs(
    session: AsyncSession,
    *,
    principal: Principal,
    views: JobTypes,
    status: JobStatus | None,
    student_id: uuid.UUID | None,
    job_type: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Job], str | None]:
    job_types = None
    if principal.is_student:
        if student_id is not None and student_id != principal.student_id:
            return [], None
        student_id = principal.student_id
        job_types = views.student_types()
    return await JobRepository(session).list_page(
        principal.tenant_id,
        status=status.value if status else None,
        student_id=student_id,
        job_type=job_type,
        job_types=job_types,
        cursor=cursor,
        limit=limit,
    )


async def cancel_job(session: AsyncSession, store: JobStore, job: Job, now: datetime) -> Job:
    """`job` cancelled if pending or running; a running attempt notices at its next write."""
    cancelled = await JobRepository(session, store.writes).cancel(job.tenant_id, job.id, now)
    if cancelled is None:
        raise JobNotCancellable(job_id=str(job.id))
    return cancelled


async def retry_job(
    session: AsyncSession,
    store: JobStore,
    queue: JobQueue,
    job: Job,
    *,
    max_attempts: int,
    now: datetime,
) -> Job:
    """`job` queued again if failed or cancelled, with `max_attempts` more attempts."""
    repo = JobRepository(session, store.writes)
    if (reopened := await repo.reopen(job.tenant_id, job.id, max_attempts, now)) is None:
        raise JobNotRetryable(job_id=str(job.id))
    await queue.enqueue(session, job.id, job_type=reopened.job_type, tenant_id=reopened.tenant_id)
    return reopened
