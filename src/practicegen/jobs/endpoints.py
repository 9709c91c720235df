"""HTTP edge for jobs: status (with long-poll and ETag), list, cancel, retry."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response

from practicegen.api.container import Container
from practicegen.api.deps import ContainerDep, CursorDep, LimitDep, NowDep, SessionDep
from practicegen.api.envelope import Envelope, Page, ok
from practicegen.auth.deps import BriefPrincipalDep, PrincipalDep
from practicegen.auth.principal import Principal
from practicegen.jobs import service
from practicegen.jobs.events import JobChange, Watch
from practicegen.jobs.followers import FollowedJob
from practicegen.jobs.parts import JobParts
from practicegen.jobs.registry import JobTypes
from practicegen.jobs.schemas import JobRead, JobStatus

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])


async def get_job_types(container: ContainerDep) -> JobTypes:
    """The job types registered at start-up (`app.py`): each one's view of its result."""
    return container.part(JobParts).types


JobTypesDep = Annotated[JobTypes, Depends(get_job_types)]


def etag(job: FollowedJob) -> str:
    return f'"{job.id}.{job.seq}"'


def matches(if_none_match: str | None, job: FollowedJob) -> bool:
    """RFC 9110 If-None-Match: a list of tags, weak or strong, or `*`."""
    if if_none_match is None:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag(job) in tags


async def read_job(container: Container, principal: Principal, job_id: uuid.UUID) -> FollowedJob:
    """The job if `principal` may see it, else the error a fresh request would get."""
    return shown(container, principal, job_id, await container.part(JobParts).reads.get(job_id))


def shown(
    container: Container, principal: Principal, job_id: uuid.UUID, job: FollowedJob | None
) -> FollowedJob:
    """`job`, read as `job_id` (for this follower or for all), if `principal` may see it."""
    views, now = container.part(JobParts).types, container.clock()
    return service.visible_job(job, principal=principal, job_id=job_id, now=now, views=views)


async def _wait_for_change(
    container: Container,
    watch: Watch,
    principal: Principal,
    job: FollowedJob,
    seen: str,
    wait_s: float,
) -> FollowedJob:
    """Wait until the job's ETag differs from `seen`, it finishes, or `wait_s` passes; `watch`
    was set before `job` was read, so no change after that read is missed."""
    deadline = time.monotonic() + min(wait_s, container.settings.job_wait_max_s)
    while etag(job) == seen and not JobStatus(job.status).terminal:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        watch.seen = job.seq
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(watch.changed.wait(), left)
        change, read, stale = watch.take()
        if stale:
            job = await read_job(container, principal, job.id)
            continue
        if read is not None and read.seq > job.seq:
            job = shown(container, principal, job.id, read)
        if change is not None and (change.seq or 0) > job.seq:
            if change.progress_of_attempt:
                job = _with_progress(job, change)
            else:  # a signal from a node that sends less
                job = await read_job(container, principal, job.id)
    return job


def _with_progress(job: FollowedJob, change: JobChange) -> FollowedJob:
    """`job` as `change` (a running attempt's progress) left it, without reading it again."""
    return dataclasses.replace(
        job,
        seq=change.seq or job.seq,
        status="processing",
        attempt=change.attempt or 0,
        progress_percent=change.progress_percent or 0,
        progress_message=change.progress_message,
        updated_at=change.updated_at or job.updated_at,
    )


@router.get("/{job_id}", response_model=Envelope[JobRead])
async def get_job(
    job_id: uuid.UUID,
    container: ContainerDep,
    response: Response,
    principal: BriefPrincipalDep,
    wait: Annotated[float, Query(ge=0, le=25, description="Hold up to N s for a change.")] = 0,
    if_none_match: Annotated[str | None, Header(max_length=200)] = None,
) -> Envelope[JobRead] | Response:
    """The guide's job status. `?wait=N` long-polls; `If-None-Match` makes an unchanged job 304."""
    # the busiest route: its parts come from the container, not from dependencies to solve
    jobs = container.part(JobParts)
    hub, views = jobs.changes, jobs.types
    with hub.watch(job_id) if wait > 0 else contextlib.nullcontext() as watch:
        job = await read_job(container, principal, job_id)
        if watch is not None:
            # without a tag, wait for any change; with a stale tag, answer at once
            fresh = if_none_match is None or matches(if_none_match, job)
            job = await _wait_for_change(
                container, watch, principal, job, etag(job) if fresh else "", wait
            )
    headers = {"ETag": etag(job), "Cache-Control": "no-store"}
    if matches(if_none_match, job):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return ok(JobRead.of(job, reader=principal, views=views))


@router.get("")
async def list_jobs(
    session: SessionDep,
    principal: PrincipalDep,
    limit: LimitDep,
    response: Response,
    views: JobTypesDep,
    cursor: CursorDep = None,
    status: JobStatus | None = None,
    student_id: uuid.UUID | None = None,
    job_type: Annotated[str | None, Query(max_length=100)] = None,
) -> Envelope[Page[JobRead]]:
    rows, next_cursor = await service.list_jobs(
        session,
        principal=principal,
        views=views,
        status=status,
        student_id=student_id,
        job_type=job_type,
        cursor=cursor,
        limit=limit,
    )
    response.headers["Cache-Control"] = "no-store"
    items = [JobRead.of(r, reader=principal, views=views) for r in rows]
    return ok(Page(items=items, next_cursor=next_cursor))


@router.post("/{job_id}/cancel")
async def cancel_job(
    job_id: uuid.UUID,
    container: ContainerDep,
    session: SessionDep,
    principal: PrincipalDep,
    now: NowDep,
    views: JobTypesDep,
) -> Envelope[JobRead]:
    """Cancel a pending or running job; a running attempt stops at its next heartbeat."""
    jobs = container.part(JobParts)
    job = await service.get_job(session, principal=principal, job_id=job_id, now=now, views=views)
    job = await service.cancel_job(session, jobs.store, job, now)
    await jobs.on_finished(session, job)
    return ok(JobRead.of(job, reader=principal, views=views))


@router.post("/{job_id}/retry", status_code=202)
async def retry_job(
    job_id: uuid.UUID,
    container: ContainerDep,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    now: NowDep,
    views: JobTypesDep,
) -> Envelope[JobRead]:
    """Run a failed or cancelled job again (the guide's "restart the job")."""
    jobs, max_attempts = container.part(JobParts), container.settings.job_max_attempts
    job = await service.get_job(session, principal=principal, job_id=job_id, now=now, views=views)
    job = await service.retry_job(
        session, jobs.store, jobs.queue, job, max_attempts=max_attempts, now=now
    )
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return ok(JobRead.of(job, reader=principal, views=views))


metrics_router = APIRouter(tags=["metrics"])


@metrics_router.get("/metrics", include_in_schema=False)
async def metrics(container: ContainerDep, session: SessionDep) -> Response:
    """Prometheus text format; see `jobs/metrics.py` for what each series means."""
    job_metrics = container.part(JobParts).metrics
    stale_s = container.settings.worker_stale_s
    await job_metrics.refresh(session, container.clock(), worker_stale_s=stale_s)
    return Response(job_metrics.render(), media_type="text/plain; version=0.0.4")
