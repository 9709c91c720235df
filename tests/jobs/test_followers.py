"""Followers' reads: many at once cost one query of the columns a follower is shown."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from practicegen.config import Settings
from practicegen.db.engine import SessionMaker, create_engine, create_sessionmaker
from practicegen.jobs.followers import FollowerReads
from practicegen.jobs.repository import JobRepository, ProgressReport
from tests.support.jobs import running_job, store_writes


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings)
    try:
        yield engine
    finally:
        await engine.dispose()


def job_reads(engine: AsyncEngine) -> list[str]:
    """The statements on `engine` that read jobs, recorded as they run."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM jobs" in statement:
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    return seen


async def add_jobs(sessionmaker: SessionMaker, count: int) -> list[uuid.UUID]:
    jobs = [running_job(request={"big": "x" * 1000}) for _ in range(count)]
    async with sessionmaker() as session, session.begin():
        session.add_all(jobs)
    return [job.id for job in jobs]


async def test_reads_asked_together_are_one_query_of_what_a_follower_is_shown(
    engine: AsyncEngine,
) -> None:
    sessionmaker = create_sessionmaker(engine)
    ids = await add_jobs(sessionmaker, 3)
    reads = FollowerReads(sessionmaker)
    queries = job_reads(engine)
    missing = uuid.uuid4()
    asked = [job_id for job_id in [*ids, missing] for _ in range(200)]

    found = await asyncio.gather(*(reads.get(job_id) for job_id in asked))

    assert len(queries) == 1
    assert "request" not in queries[0] and "webhook_url" not in queries[0]
    for job_id, job in zip(asked, found, strict=True):
        if job_id == missing:
            assert job is None
        else:
            assert job is not None and job.id == job_id and job.status == "processing"


async def test_a_read_asked_while_a_query_runs_sees_what_was_written_after_it_began(
    engine: AsyncEngine, settings: Settings
) -> None:
    sessionmaker = create_sessionmaker(engine)
    [job_id] = await add_jobs(sessionmaker, 1)
    reads = FollowerReads(sessionmaker)
    first = asyncio.create_task(reads.get(job_id))
    await asyncio.sleep(0)  # the first query is on its way
    async with sessionmaker() as session, session.begin():
        report = ProgressReport(job_id, 1, 40, "Forty.")
        await JobRepository(session, store_writes(settings)).progress_many(
            [report], datetime.now(UTC)
        )
    second = await reads.get(job_id)
    assert second is not None and second.progress_percent == 40 and second.seq == 2
    assert (await first) is not None


async def test_a_follower_that_leaves_mid_read_takes_no_one_with_it(engine: AsyncEngine) -> None:
    sessionmaker = create_sessionmaker(engine)
    [job_id] = await add_jobs(sessionmaker, 1)
    reads = FollowerReads(sessionmaker)
    leaving = asyncio.create_task(reads.get(job_id))
    staying = asyncio.create_task(reads.get(job_id))
    await asyncio.sleep(0)
    leaving.cancel()
    job = await staying
    assert job is not None and job.id == job_id
    assert leaving.cancelled()


async def test_a_failed_query_fails_its_reads_and_the_next_one_runs(
    engine: AsyncEngine, settings: Settings
) -> None:
    sessionmaker = create_sessionmaker(engine)
    [job_id] = await add_jobs(sessionmaker, 1)
    broken = create_engine(
        settings.model_copy(update={"database_url": "sqlite+aiosqlite:////nonexistent/dir/x.db"})
    )
    reads = FollowerReads(create_sessionmaker(broken))
    try:
        with pytest.raises(OperationalError):
            await asyncio.gather(reads.get(job_id), reads.get(job_id))
    finally:
        await broken.dispose()
    reads.engine = engine
    job = await reads.get(job_id)
    assert job is not None and job.id == job_id
