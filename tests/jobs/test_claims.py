"""Claims asked for together go to the database together, and each attempt gets its own job."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import event

from practicegen.config import Settings
from practicegen.db.engine import SessionMaker, create_engine, create_sessionmaker
from practicegen.jobs.store import ClaimBatcher
from tests.support.jobs import running_job, store_writes


@pytest.fixture
async def sessions(settings: Settings) -> AsyncIterator[tuple[SessionMaker, list[str]]]:
    """A sessionmaker, and the UPDATE statements sent through it."""
    engine = create_engine(settings)
    updates: list[str] = []

    def record(*args: object) -> None:
        statement = str(args[2])
        if statement.lstrip().upper().startswith("UPDATE JOBS"):
            updates.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield create_sessionmaker(engine), updates
    finally:
        await engine.dispose()


async def add_jobs(sessionmaker: SessionMaker, *statuses: str) -> list[uuid.UUID]:
    jobs = [running_job(status=s, attempt=0, started_at=None) for s in statuses]
    async with sessionmaker() as session, session.begin():
        session.add_all(jobs)
    return [job.id for job in jobs]


def now() -> datetime:
    return datetime.now(UTC)


async def test_claims_asked_together_take_one_statement(
    sessions: tuple[SessionMaker, list[str]], settings: Settings
) -> None:
    sessionmaker, updates = sessions
    ids = await add_jobs(sessionmaker, *["pending"] * 6)
    claims = ClaimBatcher(sessionmaker, now, store_writes(settings))
    jobs = await asyncio.gather(*(claims.claim(job_id) for job_id in ids))
    assert len(updates) == 1
    assert [job.id if job else None for job in jobs] == ids
    assert all(job and job.status == "processing" and job.attempt == 1 for job in jobs)
    again = await claims.claim(ids[0])  # a later claim is a statement of its own
    assert again is not None and again.attempt == 2 and len(updates) == 2


async def test_a_job_not_live_and_a_duplicate_message_get_no_attempt(
    sessions: tuple[SessionMaker, list[str]], settings: Settings
) -> None:
    sessionmaker, _ = sessions
    live, done, cancelled = await add_jobs(sessionmaker, "pending", "completed", "cancelled")
    claims = ClaimBatcher(sessionmaker, now, store_writes(settings))
    first, duplicate, finished, stopped = await asyncio.gather(
        claims.claim(live), claims.claim(live), claims.claim(done), claims.claim(cancelled)
    )
    assert first is not None and first.attempt == 1
    assert duplicate is None and finished is None and stopped is None


async def test_a_failed_claim_fails_every_attempt_that_asked() -> None:
    settings = Settings(database_url="sqlite+aiosqlite:////nonexistent/dir/x.db")
    engine = create_engine(settings)
    claims = ClaimBatcher(create_sessionmaker(engine), now, store_writes(settings))
    try:
        results = await asyncio.gather(
            *(claims.claim(uuid.uuid4()) for _ in range(3)), return_exceptions=True
        )
        assert all(isinstance(result, Exception) for result in results), results
    finally:
        await engine.dispose()
