"""The job store port, the same rules on both backends: `create_job` through each adapter."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from practicegen.app import create_queue, open_store
from practicegen.auth.principal import DEFAULT_TENANT_ID
from practicegen.config import Settings
from practicegen.db.engine import SessionMaker
from practicegen.db.models import Job, Student
from practicegen.errors import StudentNotFound
from practicegen.items.repository import ItemRepository
from practicegen.jobs.service import (
    IdempotencyKeyReused,
    NewJob,
    TooManyJobs,
    create_job,
)
from practicegen.jobs.store import JobStore
from practicegen.students.repository import StudentRepository


@pytest.fixture
async def store(settings: Settings, sessionmaker: SessionMaker) -> AsyncIterator[JobStore]:
    async with contextlib.AsyncExitStack() as stack:
        yield await open_store(stack, settings, sessionmaker, create_queue(settings))


async def a_student(sessionmaker: SessionMaker) -> uuid.UUID:
    student = Student(id=uuid.uuid4(), tenant_id=DEFAULT_TENANT_ID, display_name="Sam")
    async with sessionmaker() as session, session.begin():
        session.add(student)
    return student.id


def a_job(student: uuid.UUID | None, **overrides: object) -> NewJob:
    values: dict[str, object] = {
        "tenant_id": DEFAULT_TENANT_ID,
        "job_type": "practice_generation",
        "request": {"assign": {}},
        "max_attempts": 3,
        "in_flight_limit": 2,
        "student_id": student,
    }
    return NewJob(**(values | overrides))  # type: ignore[arg-type]


async def create(sessionmaker: SessionMaker, store: JobStore, new: NewJob) -> uuid.UUID:
    async with sessionmaker() as session, session.begin():
        check = StudentRepository(session).get_or_raise
        student = new.student_id or uuid.uuid4()

        async def explain(_session: object) -> None:
            await check(DEFAULT_TENANT_ID, student)

        created = await create_job(
            session, store=store, new=new, now=datetime.now(UTC), explain_refusal=explain
        )
        return created.job.id


async def jobs(sessionmaker: SessionMaker) -> int:
    async with sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(Job))).scalar_one())


async def test_the_tenant_limit_counts_only_limited_jobs(
    sessionmaker: SessionMaker, store: JobStore
) -> None:
    student = await a_student(sessionmaker)
    await create(sessionmaker, store, a_job(student))
    await create(sessionmaker, store, a_job(student))
    with pytest.raises(TooManyJobs):
        await create(sessionmaker, store, a_job(student))
    # the service's own jobs count against no limit, and are not stopped by one
    await create(sessionmaker, store, a_job(student, in_flight_limit=None, delay_s=60))
    assert await jobs(sessionmaker) == 3


async def test_a_student_not_the_tenants_is_the_callers_refusal(
    sessionmaker: SessionMaker, store: JobStore
) -> None:
    with pytest.raises(StudentNotFound):
        await create(sessionmaker, store, a_job(uuid.uuid4()))
    assert await jobs(sessionmaker) == 0


async def test_a_key_makes_one_job_and_refuses_another_body(
    sessionmaker: SessionMaker, store: JobStore
) -> None:
    student = await a_student(sessionmaker)
    first = await create(sessionmaker, store, a_job(student, idempotency_key="k"))
    assert await create(sessionmaker, store, a_job(student, idempotency_key="k")) == first
    with pytest.raises(IdempotencyKeyReused):
        await create(sessionmaker, store, a_job(student, idempotency_key="k", request={}))
    assert await jobs(sessionmaker) == 1


async def test_a_job_made_in_a_transaction_rolls_back_with_it(
    sessionmaker: SessionMaker, store: JobStore
) -> None:
    student = await a_student(sessionmaker)
    async with sessionmaker() as session:
        await session.begin()
        await create_job(session, store=store, new=a_job(student), now=datetime.now(UTC))
        await session.rollback()
    assert await jobs(sessionmaker) == 0


async def test_a_job_made_with_no_transaction_open_is_committed_at_once(
    sessionmaker: SessionMaker, store: JobStore
) -> None:
    student = await a_student(sessionmaker)
    async with sessionmaker() as session:
        await create_job(session, store=store, new=a_job(student), now=datetime.now(UTC))
        assert not session.in_transaction()
        await session.rollback()
    assert await jobs(sessionmaker) == 1


async def test_a_job_given_a_bank_version_is_made_only_while_the_bank_has_it(
    sessionmaker: SessionMaker, store: JobStore
) -> None:
    """A request checked against kept items names their bank version; once the bank has moved
    on, its job is refused (the caller checks again)."""
    student = await a_student(sessionmaker)
    async with sessionmaker() as session, session.begin():
        version = await ItemRepository(session).bank_version(DEFAULT_TENANT_ID)
        await ItemRepository(session).bump_bank_version(DEFAULT_TENANT_ID)
    stale, current = a_job(student, bank_version=version), a_job(student, bank_version=version + 1)
    with pytest.raises(TooManyJobs):
        await create(sessionmaker, store, stale)
    async with sessionmaker() as session:  # none open: made at once, or not at all
        with pytest.raises(TooManyJobs):
            await create_job(session, store=store, new=stale, now=datetime.now(UTC))
        await create_job(session, store=store, new=current, now=datetime.now(UTC))
    await create(sessionmaker, store, current)
    assert await jobs(sessionmaker) == 2
