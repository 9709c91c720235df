"""Creating, reading, listing, cancelling and retrying jobs: the API side of the job system.

Creating a job writes its row and queues its message in the caller's transaction, or, given a
`PostgresJobWriter` (PostgreSQL), in one statement of their own committed at once
(`jobs/pg_create.py`). An `Idempotency-Key` makes creation safe to repeat: the same key and body
give back the same job and the same key with another body is refused. A key belongs to its
caller: the tenant and the API key, or the student of a student token (`scoped_key`), so no
caller can take a key another will use. In the caller's
transaction a key whose first request has not committed yet gets a 409 rather than a second
job; in one statement the second request waits for the first's and gets its job.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.auth.principal import Principal
from practicegen.db.models import Job
from practicegen.errors import Conflict, Gone, InvalidRequest, NotFound, RateLimited
from practicegen.jobs.pg_create import PendingJob, PostgresJobWriter
from practicegen.jobs.queue import JobQueue
from practicegen.jobs.repository import JobRepository
from practicegen.jobs.schemas import JobStatus
from practicegen.jobs.views import JobViews
from practicegen.students.repository import StudentRepository


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


class IdempotencyKeyInFlight(Conflict):
    code = "idempotency_key_in_flight"
    default_message = "A request with this Idempotency-Key is still being processed; retry soon."


class TooManyJobs(RateLimited):
    code = "too_many_jobs"
    default_message = "Too many jobs in flight for this tenant; retry later."


@dataclass(frozen=True, slots=True)
class NewJob:
    job_type: str
    request: dict[str, Any]
    student_id: uuid.UUID | None
    webhook_url: str | None
    idempotency_key: str | None


@dataclass(frozen=True, slots=True)
class Created:
    job: Job | PendingJob
    replayed: bool


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
    principal: Principal,
    new: NewJob,
    queue: JobQueue,
    max_attempts: int,
    max_in_flight: int,
    now: datetime,
    writer: PostgresJobWriter | None = None,
) -> Created:
    repo = JobRepository(session)
    key = None if new.idempotency_key is None else scoped_key(principal, new.idempotency_key)
    # only a keyed request is ever compared with an earlier one
    digest = None
    if key is not None:
        digest = request_hash(new.job_type, {**new.request, "webhook_url": new.webhook_url})
    if writer is None and key is not None:
        earlier = await repo.get_by_idempotency_key(principal.tenant_id, key)
        if earlier is not None:
            return _replay(earlier, digest)
    pending = PendingJob(
        id=uuid.uuid4(),
        tenant_id=principal.tenant_id,
        job_type=new.job_type,
        student_id=new.student_id,
        request=new.request,
        max_attempts=max_attempts,
        idempotency_key=key,
        request_hash=digest,
        webhook_url=new.webhook_url,
        created_at=now,
    )
    if writer is not None:
        if await writer.add_and_enqueue(pending, in_flight_limit=max_in_flight):
            return Created(job=pending, replayed=False)
        if key is not None:  # nothing inserted: perhaps the key's job exists
            earlier = await repo.get_by_idempotency_key(principal.tenant_id, key)
            if earlier is not None:
                return _replay(earlier, digest)
        await _refused(session, principal, new, max_in_flight)
    job = Job(**dataclasses.asdict(pending), updated_at=pending.updated_at)
    if key is None:
        added = await repo.add_within_limit(job, in_flight_limit=max_in_flight)
    else:
        try:
            async with session.begin_nested():
                added = await repo.add_within_limit(job, in_flight_limit=max_in_flight)
        except IntegrityError as exc:  # the same key's first request has not committed yet
            raise IdempotencyKeyInFlight() from exc
    if not added:
        await _refused(session, principal, new, max_in_flight)
    await queue.enqueue(session, job.id, job_type=job.job_type, tenant_id=job.tenant_id)
    return Created(job=job, replayed=False)


def _replay(earlier: Job, digest: str | None) -> Created:
    if earlier.request_hash != digest:
        raise IdempotencyKeyReused()
    return Created(job=earlier, replayed=True)


async def _refused(
    session: AsyncSession, principal: Principal, new: NewJob, max_in_flight: int
) -> NoReturn:
    """Why a job was not inserted; read only then, as a refusal is rare."""
    if new.student_id is not None:
        await StudentRepository(session).get_or_raise(principal.tenant_id, new.student_id)
    raise TooManyJobs(limit=max_in_flight)


async def get_job(
    session: AsyncSession,
    *,
    principal: Principal,
    job_id: uuid.UUID,
    now: datetime,
    views: JobViews,
) -> Job:
    """The job if `principal` may see it: a student token sees only its student's jobs of the
    types with a student view; any other job is absent to it."""
    job = await JobRepository(session).get(principal.tenant_id, job_id)
    if job is None or not _readable(principal, job, views):
        raise JobNotFound(job_id=str(job_id))
    if job.expires_at is not None and job.expires_at <= now:
        raise JobExpired(job_id=str(job_id), expired_at=job.expires_at.isoformat())
    return job


def _readable(principal: Principal, job: Job, views: JobViews) -> bool:
    if not principal.is_student:
        return True
    return job.student_id == principal.student_id and views.visible(principal, job.job_type)


async def list_jobs(
    session: AsyncSession,
    *,
    principal: Principal,
    views: JobViews,
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


async def cancel_job(
    session: AsyncSession,
    *,
    principal: Principal,
    job_id: uuid.UUID,
    now: datetime,
    views: JobViews,
) -> Job:
    """Pending or running: cancelled at once; a running attempt notices at its next write."""
    await get_job(session, principal=principal, job_id=job_id, now=now, views=views)
    cancelled = await JobRepository(session).cancel(principal.tenant_id, job_id, now)
    if cancelled is None:
        raise JobNotCancellable(job_id=str(job_id))
    return cancelled


async def retry_job(
    session: AsyncSession,
    *,
    principal: Principal,
    job_id: uuid.UUID,
    queue: JobQueue,
    max_attempts: int,
    now: datetime,
    views: JobViews,
) -> Job:
    await get_job(session, principal=principal, job_id=job_id, now=now, views=views)
    reopened = await JobRepository(session).reopen(principal.tenant_id, job_id, max_attempts, now)
    if reopened is None:
        raise JobNotRetryable(job_id=str(job_id))
    await queue.enqueue(session, job_id, job_type=reopened.job_type, tenant_id=reopened.tenant_id)
    return reopened


def retention(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)
