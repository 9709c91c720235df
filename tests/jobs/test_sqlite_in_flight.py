"""The embedded tenant limit stays exact: across an upgrade of a database with jobs in flight,
and when two processes create at once on one file (SQLite runs one writer at a time, and the
check and the count's move are in the same statement)."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import shutil
import sqlite3
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from sqlalchemy import insert

from practicegen.app import create_queue
from practicegen.auth.principal import DEFAULT_TENANT_ID
from practicegen.bootstrap import prepare
from practicegen.config import Settings
from practicegen.db import migrator
from practicegen.db.engine import SessionMaker, create_engine, create_sessionmaker
from practicegen.db.models import Job, Tenant
from practicegen.jobs.queue import EmbeddedQueue
from practicegen.jobs.service import TooManyJobs
from practicegen.jobs.sqlite_store import SqliteJobStore
from practicegen.jobs.store import PendingJob
from tests.conftest import make_settings
from tests.jobs.test_in_flight_count import COUNTED, KEPT
from tests.jobs.test_store import a_job, a_student, create


@contextlib.asynccontextmanager
async def embedded(settings: Settings) -> AsyncIterator[tuple[SessionMaker, SqliteJobStore]]:
    """Sessions and the SQLite job store on the settings' file (its queue: in memory)."""
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    queue = create_queue(settings)
    assert isinstance(queue, EmbeddedQueue)
    try:
        yield sessionmaker, SqliteJobStore(sessionmaker, queue, _now)
    finally:
        await engine.dispose()


def _now() -> datetime:
    return datetime.now(UTC)


def in_flight(path: Path, tenant: uuid.UUID = DEFAULT_TENANT_ID) -> tuple[int, int]:
    """(counted from the jobs, kept by the triggers), as stored (a UUID's hex)."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        counted = conn.execute(COUNTED.replace("%s", "?"), (tenant.hex,)).fetchone()[0]
        kept = conn.execute(KEPT.replace("%s", "?"), (tenant.hex,)).fetchone()[0]
    return int(counted), int(kept)


def an_old_job(tenant: uuid.UUID, status: str, job_type: str = "practice_generation") -> PendingJob:
    return PendingJob(
        id=uuid.uuid4(),
        tenant_id=tenant,
        job_type=job_type,
        student_id=None,
        request={},
        max_attempts=3,
        idempotency_key=None,
        request_hash=None,
        webhook_url=None,
        created_at=_now(),
        status=status,
    )


async def test_an_upgraded_database_counts_the_jobs_already_in_flight(tmp_path: Path) -> None:
    earlier = tmp_path / "earlier"  # the release before the count: every file up to 020
    earlier.mkdir()
    for migration in migrator.available_migrations(database_url="sqlite://"):
        if migration.version < "021":
            shutil.copy(migration.path, earlier)
    path = tmp_path / "upgraded.db"
    settings = make_settings(f"sqlite+aiosqlite:///{path}", auto_migrate=False)
    assert (await migrator.upgrade(settings.database_url, directory=earlier))[-1] == "020"
    await prepare(settings)
    other = uuid.uuid4()
    async with embedded(settings) as (sessionmaker, store):
        student = await a_student(sessionmaker)
        async with sessionmaker() as session, session.begin():
            await session.execute(insert(Tenant).values(id=other, name="other"))
            old = [
                an_old_job(DEFAULT_TENANT_ID, "pending"),
                an_old_job(DEFAULT_TENANT_ID, "processing"),
                an_old_job(DEFAULT_TENANT_ID, "pending"),
                an_old_job(DEFAULT_TENANT_ID, "completed"),
                an_old_job(DEFAULT_TENANT_ID, "pending", "webhook_delivery"),
                an_old_job(other, "pending"),
            ]
            await session.execute(insert(Job), [job.columns() for job in old])

        assert await migrator.upgrade(settings.database_url) == ["021"]
        assert in_flight(path) == (3, 3)
        assert in_flight(path, other) == (1, 1)
        # a limit of 5 leaves room for exactly two more of the tenant's jobs
        for _ in range(2):
            await create(sessionmaker, store, a_job(student, in_flight_limit=5))
        with pytest.raises(TooManyJobs):
            await create(sessionmaker, store, a_job(student, in_flight_limit=5))
    assert in_flight(path) == (5, 5)


LIMIT = 30
TRIES = 40  # per process, four at a time: 80 tries at a limit of 30


def _create_in_a_process(url: str, student: str, start: Barrier, done: Queue[int]) -> None:
    """A process of its own: `TRIES` creations against `LIMIT`, begun with the other's."""

    async def creations() -> int:
        async with embedded(make_settings(url, auto_migrate=False)) as (sessionmaker, store):
            slots = asyncio.Semaphore(4)

            async def one() -> bool:
                async with slots:
                    new = a_job(uuid.UUID(student), in_flight_limit=LIMIT)
                    try:
                        await create(sessionmaker, store, new)
                    except TooManyJobs:
                        return False
                    return True

            start.wait(300)
            return sum(await asyncio.gather(*(one() for _ in range(TRIES))))

    done.put(asyncio.run(creations()))


async def test_two_processes_creating_at_once_stop_at_the_limit_exactly(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    settings = make_settings(f"sqlite+aiosqlite:///{path}")
    await prepare(settings)
    async with embedded(settings) as (sessionmaker, _store):
        student = str(await a_student(sessionmaker))
    context = multiprocessing.get_context("spawn")
    start, done = context.Barrier(2), context.Queue()
    processes = [
        context.Process(
            target=_create_in_a_process, args=(settings.database_url, student, start, done)
        )
        for _ in range(2)
    ]
    for process in processes:
        process.start()
    try:  # generous deadlines: each process imports the whole service first
        created = [await asyncio.to_thread(done.get, True, 300) for _ in processes]
    finally:
        for process in processes:
            await asyncio.to_thread(process.join, 60)
    assert sum(created) == LIMIT, created
    assert [p.exitcode for p in processes] == [0, 0]
    assert in_flight(path) == (LIMIT, LIMIT)
