"""Starting a batch (a class's students, or a list) and reading it; a batch and all its
students' jobs are created in one transaction, so every student gets a job or none does."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.auth.principal import Principal
from practicegen.batches.schemas import BatchJob, BatchRead, ClassAssignRequest
from practicegen.batches.tasks import (
    PRACTICE_BATCH,
    ChildRow,
    child_id,
    children,
    counts,
    overall_percent,
)
from practicegen.classes.repository import ClassRepository
from practicegen.classes.schemas import StudentNames
from practicegen.classes.service import resolve_students
from practicegen.config import Settings
from practicegen.db.engine import SessionMaker
from practicegen.db.models import Job
from practicegen.errors import InvalidRequest, NotFound
from practicegen.items.names import Spellings
from practicegen.jobs import service as jobs_service
from practicegen.jobs.registry import JobTypes
from practicegen.jobs.service import Created, NewJob, scoped_key
from practicegen.practice.assign_service import canonical_request
from practicegen.practice.checks import Assigning, check_request_content
from practicegen.practice.parts import PracticeParts
from practicegen.practice.schemas import AssignRequest
from practicegen.practice.tasks import PRACTICE_GENERATION, job_request


class BatchNotFound(NotFound):
    code = "batch_not_found"
    default_message = "No such batch."


class EmptyBatch(InvalidRequest):
    code = "empty_batch"
    default_message = "The class has no students to assign."


async def start_batch(
    parts: PracticeParts,
    *,
    sessionmaker: SessionMaker,
    settings: Settings,
    principal: Principal,
    ask: ClassAssignRequest,
    class_id: uuid.UUID | None = None,
    named: StudentNames | None = None,
    now: datetime,
    known: Spellings,
    idempotency_key: str | None = None,
) -> Created:
    """The batch of a practice job per student of `class_id` or `named` (or a replayed one)."""
    principal.require_server()
    webhook_url = None if ask.webhook_url is None else str(ask.webhook_url)
    if webhook_url is not None:
        await parts.guard.check_url(webhook_url)
    practice = ask.model_dump(mode="json", exclude={"webhook_url"})
    async with sessionmaker() as session, session.begin():
        students = await _students(session, principal, class_id, named, settings)
        first = AssignRequest(student_id=students[0], **practice)
        first = await canonical_request(session, principal, first, known)
        practice = first.model_dump(mode="json", exclude={"student_id"})
        check = Assigning(principal, first, settings, parts.cache, parts.job_filler, now)
        await check_request_content(session, check)
        request: dict[str, Any] = {
            "assign": practice,
            "class_id": None if class_id is None else str(class_id),
            "student_ids": [str(s) for s in students],
        }
        key = None if idempotency_key is None else scoped_key(principal, idempotency_key)
        batch = NewJob(
            tenant_id=principal.tenant_id,
            job_type=PRACTICE_BATCH,
            request=request,
            max_attempts=settings.job_max_attempts,
            in_flight_limit=None,
            webhook_url=webhook_url,
            idempotency_key=key,
        )
        created = await jobs_service.create_job(session, store=parts.store, new=batch, now=now)
        if not created.replayed:
            for job in _students_jobs(created.job.id, students, principal, settings, batch):
                await jobs_service.create_job(session, store=parts.store, new=job, now=now)
    return created


def _students_jobs(
    batch_id: uuid.UUID,
    students: list[uuid.UUID],
    principal: Principal,
    settings: Settings,
    batch: NewJob,
) -> list[NewJob]:
    """The practice job of each student, as the async assign would make it, plus `batch_id`."""
    practice = batch.request["assign"]
    return [
        NewJob(
            tenant_id=principal.tenant_id,
            job_type=PRACTICE_GENERATION,
            request={
                **job_request(AssignRequest(student_id=student_id, **practice), principal),
                "batch_id": str(batch_id),
            },
            max_attempts=settings.job_max_attempts,
            in_flight_limit=settings.job_max_in_flight,
            student_id=student_id,
            webhook_url=batch.webhook_url,
            job_id=child_id(batch_id, student_id),
        )
        for student_id in students
    ]


async def _students(
    session: AsyncSession,
    principal: Principal,
    class_id: uuid.UUID | None,
    named: StudentNames | None,
    settings: Settings,
) -> list[uuid.UUID]:
    """The class's students, or those named: at least one, at most a class's bound."""
    if class_id is not None:
        repo = ClassRepository(session)
        klass = await repo.get_or_raise(principal.tenant_id, class_id)
        students = [s.id for s in await repo.members(klass.id)]
    else:
        assert named is not None
        students = await resolve_students(session, principal.tenant_id, named)
    if not students:
        raise EmptyBatch(class_id=str(class_id))
    if len(students) > settings.class_max_students:
        raise InvalidRequest(
            "A batch holds at most as many students as a class may.",
            limit=settings.class_max_students,
            students=len(students),
        )
    return students


def jobs_of(rows: list[ChildRow]) -> list[BatchJob]:
    return [
        BatchJob(
            job_id=job_id,
            student_id=student_id,
            status=status,
            progress_percent=percent,
            status_url=f"/api/v1/jobs/{job_id}",
        )
        for job_id, student_id, status, percent in rows
    ]


async def find_batch(
    session: AsyncSession,
    *,
    principal: Principal,
    batch_id: uuid.UUID,
    now: datetime,
    views: JobTypes,
) -> Job:
    """The batch's own job, if `principal` may see it (a `BatchNotFound` if not)."""
    principal.require_server()
    try:
        batch = await jobs_service.get_job(
            session, principal=principal, job_id=batch_id, now=now, views=views
        )
    except jobs_service.JobNotFound:
        batch = None
    if batch is None or batch.job_type != PRACTICE_BATCH:
        raise BatchNotFound(batch_id=str(batch_id))
    return batch


async def show_batch(session: AsyncSession, batch: Job) -> BatchRead:
    """`batch` with its students' jobs and their counts by status."""
    rows = await children(session, batch)
    class_id = batch.request.get("class_id")
    return BatchRead(
        batch_id=batch.id,
        class_id=None if class_id is None else uuid.UUID(class_id),
        status=batch.status,
        progress_percent=100 if batch.status == "completed" else overall_percent(rows),
        progress_message=batch.progress_message,
        counts=counts(rows),
        jobs=jobs_of(rows),
        created_at=batch.created_at,
        updated_at=batch.updated_at,
    )
