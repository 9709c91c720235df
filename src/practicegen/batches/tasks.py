"""The `practice_batch` job type: its handler waits, in a lane of its own, for its students'
jobs (ids derived from the batch's and the student's) to end, then completes with their counts."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.config import Settings
from practicegen.db.engine import SessionMaker, autocommit_sessionmaker
from practicegen.db.models import Job
from practicegen.jobs.lanes import Lane
from practicegen.jobs.registry import JobType, Progress, Writer
from practicegen.jobs.schemas import JobStatus
from practicegen.jobs.store import PendingJob

PRACTICE_BATCH = "practice_batch"
BATCH_LANE = "practicegen_batch"
EVENTS = {end: f"practice.batch.{end}" for end in ("completed", "failed", "cancelled")}
ChildRow = tuple[uuid.UUID, uuid.UUID, str, int]  # job id, student id, status, percent


def child_id(batch_id: uuid.UUID, student_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(batch_id, str(student_id))


def students_of(batch: Job | PendingJob) -> list[uuid.UUID]:
    """The batch's students, in the order it names them."""
    return [uuid.UUID(s) for s in batch.request["student_ids"]]


def places(batch: Job | PendingJob) -> dict[uuid.UUID, int]:
    """Each student's job's place in the batch: its student's in the order the batch names them,
    whichever of the jobs are found."""
    return {child_id(batch.id, s): place for place, s in enumerate(students_of(batch))}


async def children(session: AsyncSession, batch: Job | PendingJob) -> list[ChildRow]:
    """The batch's students' jobs, in the order the batch names its students."""
    ids = {child_id(batch.id, s): s for s in students_of(batch)}
    query = select(Job.id, Job.status, Job.progress_percent).where(
        Job.tenant_id == batch.tenant_id, Job.id.in_(ids)
    )
    found = {job_id: (status, percent) for job_id, status, percent in await session.execute(query)}
    return [(i, s, *found[i]) for i, s in ids.items() if i in found]


def counts(rows: Sequence[ChildRow]) -> dict[JobStatus, int]:
    seen = Counter(JobStatus(status) for _, _, status, _ in rows)
    return {status: seen[status] for status in JobStatus}


def overall_percent(rows: Sequence[ChildRow]) -> int:
    """How far the students' jobs are, together: an ended job counts as done."""
    done = [100 if JobStatus(status).terminal else percent for _, _, status, percent in rows]
    return sum(done) // len(done) if done else 0


def batch_lane(settings: Settings) -> Lane:
    """The lane batches wait in: slots of their own, so waiting never takes a student's."""
    return Lane(
        entrypoint=BATCH_LANE,
        job_types=frozenset({PRACTICE_BATCH}),
        concurrency=settings.batch_concurrency,
        tenant_share=settings.batch_concurrency,
        defer_s=settings.batch_poll_s,
        defer_max_s=settings.batch_poll_s,
    )


def batch_job_type(settings: Settings, sessionmaker: SessionMaker) -> JobType:
    """Batches as the job system runs them: a server's business, never a student's."""
    reading = autocommit_sessionmaker(sessionmaker)

    async def wait_for_students(job: Job, progress: Progress) -> Writer:
        students = len(job.request["student_ids"])
        while True:
            async with reading() as session:
                rows = await children(session, job)
            ended = sum(1 for _, _, status, _ in rows if JobStatus(status).terminal)
            await progress(overall_percent(rows), f"{ended} of {students} ready.")
            if ended == len(rows):
                break
            await asyncio.sleep(settings.batch_poll_s)

        async def write(_session: AsyncSession) -> dict[str, Any]:
            return {
                "counts": counts(rows),
                "jobs": [
                    {"job_id": str(j), "student_id": str(s), "status": st} for j, s, st, _ in rows
                ],
            }

        return write

    return JobType(name=PRACTICE_BATCH, handler=wait_for_students, events=EVENTS)
