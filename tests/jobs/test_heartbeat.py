"""The process's one writer of heartbeats and progress, on both backends.

Checked here: reported progress reaches the jobs table and the change hub (and, on PostgreSQL,
the NOTIFY channel) without a transaction per report; reports within one interval make one
write, the newest message winning and the percent never going down; the first report after a
quiet spell is written at once; an attempt that lost its job is stopped by the batched write and
its next report refused; and the heartbeat still moves for attempts that report nothing.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import update

from practicegen.bootstrap import prepare
from practicegen.config import Settings
from practicegen.db.engine import SessionMaker, create_engine, create_sessionmaker
from practicegen.db.migrator import postgres_conninfo
from practicegen.db.models import Job
from practicegen.jobs.events import CHANNEL, JobChange, JobChanges, Watch, session_info
from practicegen.jobs.heartbeat import Heartbeats
from tests.conftest import make_settings
from tests.support.jobs import running_job as new_running_job
from tests.support.jobs import store_writes

INTERVAL_S = 0.3


@dataclass
class Db:
    sessionmaker: SessionMaker
    hub: JobChanges
    settings: Settings


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Db]:
    engine = create_engine(settings)
    hub = JobChanges()
    try:
        yield Db(create_sessionmaker(engine, info=session_info(hub)), hub, settings)
    finally:
        await engine.dispose()


def utcnow() -> datetime:
    return datetime.now(UTC)


async def running_job(db: Db, *, percent: int = 0) -> Job:
    job = new_running_job(progress_percent=percent, progress_message="Starting...", max_attempts=3)
    async with db.sessionmaker() as session, session.begin():
        session.add(job)
    return job


async def stored(db: Db, job_id: uuid.UUID) -> Job:
    async with db.sessionmaker() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job


async def forever() -> None:
    await asyncio.Event().wait()


@contextmanager
def holding(beats: Heartbeats, job: Job) -> Iterator[asyncio.Task[None]]:
    """An attempt of `job` held by `beats`, its work a task that waits until cancelled."""
    work = asyncio.create_task(forever())
    beats.hold((job.id, job.attempt), work)
    try:
        yield work
    finally:
        beats.release((job.id, job.attempt))
        work.cancel()


async def until(condition: Callable[[], Awaitable[bool]], timeout_s: float = 5.0) -> None:
    async with asyncio.timeout(timeout_s):
        while True:
            if await condition():
                return
            await asyncio.sleep(0.02)


async def next_change(watch: Watch) -> JobChange | None:
    async with asyncio.timeout(5):
        await watch.changed.wait()
    return watch.take()[0]


async def test_reports_within_an_interval_make_one_write_that_reaches_the_hub(db: Db) -> None:
    beats = Heartbeats(
        db.sessionmaker, store_writes(db.settings), interval_s=INTERVAL_S, clock=utcnow
    )
    first, second = await running_job(db), await running_job(db, percent=60)
    try:
        with (
            holding(beats, first),
            holding(beats, second),
            db.hub.watch(first.id) as watch,
        ):
            assert beats.report((first.id, 1), 5, "Reading the item bank...")  # written at once
            change = await next_change(watch)
            assert change == JobChange.of(await stored(db, first.id))  # all a poll shows
            assert change.progress_of_attempt
            assert (change.seq, change.progress_percent) == (2, 5)
            assert change.progress_message == "Reading the item bank..."
            for percent, message in [(20, "Generating 1 of 2..."), (15, "Generating 2 of 2...")]:
                assert beats.report((first.id, 1), percent, message)
            assert beats.report((second.id, 1), 30, "Selecting items...")

            change = await next_change(watch)
            # one write for both reports: the newest message, the percent never backwards
            job = await stored(db, first.id)
            assert change == JobChange.of(job)
            assert change.progress_message == "Generating 2 of 2..."
            assert (job.seq, job.progress_percent) == (3, 20)
            other = await stored(db, second.id)
            assert (other.seq, other.progress_percent) == (2, 60)  # the stored 60 stays
            assert other.progress_message == "Selecting items..."
    finally:
        await beats.aclose()


async def test_an_attempt_that_lost_its_job_is_stopped_by_the_batched_write(db: Db) -> None:
    beats = Heartbeats(
        db.sessionmaker, store_writes(db.settings), interval_s=INTERVAL_S, clock=utcnow
    )
    kept, lost = await running_job(db), await running_job(db)
    try:
        with holding(beats, kept) as kept_work, holding(beats, lost) as lost_work:
            async with db.sessionmaker() as session, session.begin():  # re-picked elsewhere
                await session.execute(update(Job).where(Job.id == lost.id).values(attempt=2))
            assert beats.report((kept.id, 1), 10, "Working...")
            assert beats.report((lost.id, 1), 10, "Working...")
            async with asyncio.timeout(5):
                with pytest.raises(asyncio.CancelledError):
                    await lost_work
            assert not beats.report((lost.id, 1), 20, "Still working?")
            assert not kept_work.done()
            assert (await stored(db, kept.id)).progress_percent == 10
            job = await stored(db, lost.id)
            assert (job.attempt, job.progress_percent) == (2, 0)  # the zombie wrote nothing
    finally:
        await beats.aclose()


async def test_attempts_that_report_nothing_still_beat(db: Db) -> None:
    beats = Heartbeats(
        db.sessionmaker, store_writes(db.settings), interval_s=INTERVAL_S, clock=utcnow
    )
    job = await running_job(db)
    first = await stored(db, job.id)
    before = first.heartbeat_at
    assert before is not None
    try:
        with holding(beats, job) as work:
            await until(lambda: _beat_after(db, job.id, before))
            assert not work.done()
            beaten = await stored(db, job.id)  # a beat is not a change a client sees
            assert (beaten.seq, beaten.updated_at) == (1, first.updated_at)
    finally:
        await beats.aclose()


async def _beat_after(db: Db, job_id: uuid.UUID, before: datetime) -> bool:
    beat = (await stored(db, job_id)).heartbeat_at
    return beat is not None and beat.replace(tzinfo=None) > before.replace(tzinfo=None)


@pytest.mark.postgres
async def test_progress_reaches_other_nodes_as_one_notify_per_job(
    postgres_database: str,
) -> None:
    settings = make_settings(postgres_database)
    await prepare(settings)
    engine = create_engine(settings)
    db = Db(create_sessionmaker(engine), JobChanges(), settings)
    beats = Heartbeats(
        db.sessionmaker, store_writes(db.settings), interval_s=INTERVAL_S, clock=utcnow
    )
    conninfo = postgres_conninfo(postgres_database)
    try:
        jobs = [await running_job(db) for _ in range(3)]
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as listen:
            await listen.execute(f"LISTEN {CHANNEL}")
            with holding(beats, jobs[0]), holding(beats, jobs[1]), holding(beats, jobs[2]):
                for n, job in enumerate(jobs):
                    assert beats.report((job.id, 1), 10 + n, f"Step {n}.")
                received: dict[str, list[object]] = {}
                async with asyncio.timeout(5):
                    async for note in listen.notifies():
                        fields = json.loads(note.payload)
                        received[fields[0]] = fields
                        if len(received) == len(jobs):
                            break
        for n, job in enumerate(jobs):
            head, (attempt, updated_at) = received[str(job.id)][:5], received[str(job.id)][5:]
            assert head == [str(job.id), 2, "processing", 10 + n, f"Step {n}."]
            assert attempt == 1 and isinstance(updated_at, str)
            assert datetime.fromisoformat(updated_at) == (await stored(db, job.id)).updated_at
    finally:
        await beats.aclose()
        await engine.dispose()
