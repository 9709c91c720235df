"""The PostgreSQL job store's one-statement creation: what it writes, what it refuses, dead
connections.

Every async assign on PostgreSQL goes through it, so the API and multi-process tests dequeue and
run what it writes; these pin its own rules.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pgqueuer.models import AnyEvent, TableChangedEvent
from sqlalchemy import text

from practicegen.auth.principal import DEFAULT_TENANT_ID
from practicegen.config import Settings
from practicegen.db.engine import create_engine, create_sessionmaker
from practicegen.db.migrator import postgres_conninfo
from practicegen.jobs.pg_store import PostgresJobStore
from practicegen.jobs.queue import ENTRYPOINT
from practicegen.jobs.store import PendingJob

pytestmark = pytest.mark.postgres
Db = psycopg.AsyncConnection[dict[str, Any]]


@contextlib.asynccontextmanager
async def made_store(
    database_url: str, max_connections: int, ping_idle_s: float = 5.0
) -> AsyncIterator[PostgresJobStore]:
    engine = create_engine(Settings(_env_file=None, database_url=database_url))
    made = PostgresJobStore(
        postgres_conninfo(database_url),
        create_sessionmaker(engine),
        lanes=(),
        clock=lambda: datetime.now(UTC),
        max_connections=max_connections,
        ping_idle_s=ping_idle_s,
    )
    await made.open()
    try:
        yield made
    finally:
        await made.close()
        await engine.dispose()


@pytest.fixture
async def writer(postgres_database: str) -> AsyncIterator[PostgresJobStore]:
    async with made_store(postgres_database, 2) as made:
        yield made


async def add(store: PostgresJobStore, job: PendingJob, in_flight_limit: int) -> bool:
    """Create `job` outside any transaction: committed at once, on the store's own pool."""
    async with store.claims.sessionmaker() as session:
        limited = dataclasses.replace(job, in_flight_limit=in_flight_limit)
        return await store.create(session, limited)


async def new_student(db: Db, tenant: uuid.UUID = DEFAULT_TENANT_ID) -> uuid.UUID:
    await db.execute(
        "INSERT INTO tenants (id, name) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (tenant, f"tenant {tenant}"),
    )
    student = uuid.uuid4()
    await db.execute(
        "INSERT INTO students (id, tenant_id, display_name) VALUES (%s, %s, 'Sam')",
        (student, tenant),
    )
    return student


def a_job(student: uuid.UUID | None, idempotency_key: str | None = None) -> PendingJob:
    return PendingJob(
        id=uuid.uuid4(),
        tenant_id=DEFAULT_TENANT_ID,
        job_type="practice_generation",
        student_id=student,
        request={"assign": {"num_items": 3}},
        max_attempts=3,
        idempotency_key=idempotency_key,
        request_hash="h",
        webhook_url=None,
        created_at=datetime.now(UTC),
    )


async def rows(db: Db) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    jobs = await (await db.execute("SELECT id, status, request, student_id FROM jobs")).fetchall()
    messages = await (
        await db.execute("SELECT entrypoint, payload, status::text AS status FROM pgqueuer")
    ).fetchall()
    return jobs, messages


async def test_the_job_and_its_queue_message_are_written_together(
    writer: PostgresJobStore, db: Db
) -> None:
    job = a_job(await new_student(db))
    assert await add(writer, job, 10)
    jobs, messages = await rows(db)
    assert [(r["id"], r["status"], r["request"]) for r in jobs] == [
        (job.id, "pending", {"assign": {"num_items": 3}})
    ]
    assert messages == [{"entrypoint": ENTRYPOINT, "payload": job.id.bytes, "status": "queued"}]


async def test_the_in_flight_limit_and_the_student_refuse_without_writing(
    writer: PostgresJobStore, db: Db
) -> None:
    student = await new_student(db)
    theirs = await new_student(db, tenant=uuid.uuid4())
    assert await add(writer, a_job(student), 2)
    assert await add(writer, a_job(None), 2)  # no student to check
    assert not await add(writer, a_job(student), 2)
    assert not await add(writer, a_job(theirs), 10)
    assert not await add(writer, a_job(uuid.uuid4()), 10)
    jobs, messages = await rows(db)
    assert len(jobs) == len(messages) == 2


async def test_a_connection_the_database_dropped_is_replaced_and_the_job_written_once(
    writer: PostgresJobStore, db: Db
) -> None:
    student = await new_student(db)
    assert await add(writer, a_job(student), 10)  # a pooled connection
    killed = await (
        await db.execute(
            # with a timeout: returns once each backend has ended, not when it was told to
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    ).fetchall()
    assert killed
    job = a_job(student)
    assert await add(writer, job, 10)
    stats = writer.pool.get_stats()
    # the dead ones (as many as the pool had opened by then) were found when taken from the
    # pool (their sockets said so), not by a statement failing on one
    assert stats["connections_lost"] >= 1 and "returns_bad" not in stats, stats
    jobs, messages = await rows(db)
    assert [r["id"] for r in jobs].count(job.id) == 1
    assert [m["payload"] for m in messages].count(job.id.bytes) == 1
    assert len(jobs) == len(messages) == 2


async def test_a_pool_whose_every_connection_the_database_ended_writes_at_once(
    postgres_database: str, db: Db
) -> None:
    """After a restart every pooled connection is dead: each is found so when taken from the
    pool (its socket says so), not by a failed statement, so no creation fails for it."""
    async with made_store(postgres_database, 4) as writer:
        async with contextlib.AsyncExitStack() as held:  # four connections open in the pool
            for _ in range(4):
                await held.enter_async_context(writer.pool.connection())
        killed = await (
            await db.execute(
                # with a timeout: returns once each backend has ended, not when it was told to
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).fetchall()
        assert len(killed) == 4
        student = await new_student(db)
        for _ in range(4):
            assert await add(writer, a_job(student), 10)
    jobs, messages = await rows(db)
    assert len(jobs) == len(messages) == 4


async def test_an_idempotency_key_inserts_once_even_from_two_requests_at_once(
    writer: PostgresJobStore, db: Db
) -> None:
    student = await new_student(db)
    twins = [a_job(student, "order-1") for _ in range(2)]
    inserted = await asyncio.gather(*(add(writer, job, 10) for job in twins))
    assert sorted(inserted) == [False, True]
    later = a_job(student, "order-1")
    assert not await add(writer, later, 10)
    jobs, messages = await rows(db)
    winner = twins[inserted.index(True)]
    assert [r["id"] for r in jobs] == [winner.id]
    assert [m["payload"] for m in messages] == [winner.id.bytes]


async def heard(db: Db, seconds: float) -> list[psycopg.Notify]:
    """The notifications on pgqueuer's channel that reach `db` (listening) within `seconds`."""
    return [note async for note in db.notifies(timeout=seconds)]


async def test_a_creation_wakes_the_queue_after_its_commit_not_from_its_transaction(
    writer: PostgresJobStore, db: Db, postgres_database: str
) -> None:
    """A NOTIFY in the creating transaction would take the database's one notification lock
    at its commit; the wake-up comes from elsewhere once the job has committed."""
    student = await new_student(db)
    await db.execute("LISTEN ch_pgqueuer")
    engine = create_engine(Settings(_env_file=None, database_url=postgres_database))
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            creator = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            assert await writer.create(session, a_job(student))
    finally:
        await engine.dispose()
    notes = await heard(db, 1.5)
    assert len(notes) == 1 and notes[0].pid != creator
    woken = AnyEvent.model_validate_json(notes[0].payload).root  # as pgqueuer's workers read it
    assert isinstance(woken, TableChangedEvent) and woken.operation == "insert"
    assert await add(writer, a_job(student), 10)  # and outside a transaction, on the pool
    assert len(await heard(db, 1.5)) == 1
    await db.execute(  # anything else that writes the queue still notifies as pgqueuer does
        "INSERT INTO pgqueuer (priority, entrypoint, status) VALUES (0, 'other', 'queued')"
    )
    assert [note.pid for note in await heard(db, 1.5)] == [db.info.backend_pid]


async def test_the_pool_pings_a_connection_only_once_it_has_sat_idle(
    postgres_database: str, db: Db, tmp_path: Path
) -> None:
    """Read from libpq's trace of the pool's one connection: a creation moments after the last
    sends its statement alone; one after `ping_idle_s` sends psycopg_pool's ping first."""
    student = await new_student(db)
    async with made_store(postgres_database, 1, ping_idle_s=0.5) as store:
        async with store.pool.connection() as connection:
            pgconn = connection.pgconn

        async def simple_queries(name: str) -> list[str]:
            path = tmp_path / name
            with path.open("w") as trace:
                pgconn.trace(trace.fileno())
                try:
                    assert await add(store, a_job(student), 10)
                finally:
                    pgconn.untrace()
            lines = [line.split("\t") for line in path.read_text().splitlines()]
            return [line[-1].strip() for line in lines if line[1:4:2] == ["F", "Query"]]

        busy = await simple_queries("busy")
        await asyncio.sleep(0.6)
        idle = await simple_queries("idle")
    assert busy == []  # the creation itself is a prepared statement, not a simple query
    assert idle == ['""']  # check_connection's empty query
