"""The one-statement job creation on PostgreSQL: what it writes, what it refuses, dead connections.

Every async assign on PostgreSQL goes through it, so the API and multi-process tests dequeue and
run what it writes; these pin its own rules.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from practicegen.auth.principal import DEFAULT_TENANT_ID
from practicegen.db.migrator import postgres_conninfo
from practicegen.db.models import Job
from practicegen.jobs.pg_create import PostgresJobWriter
from practicegen.jobs.queue import ENTRYPOINT

pytestmark = pytest.mark.postgres
Db = psycopg.AsyncConnection[dict[str, Any]]


@pytest.fixture
async def writer(postgres_database: str) -> AsyncIterator[PostgresJobWriter]:
    made = PostgresJobWriter(postgres_conninfo(postgres_database), max_connections=2)
    await made.open()
    try:
        yield made
    finally:
        await made.close()


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


def a_job(student: uuid.UUID | None) -> Job:
    now = datetime.now(UTC)
    return Job(
        id=uuid.uuid4(),
        tenant_id=DEFAULT_TENANT_ID,
        job_type="practice_generation",
        status="pending",
        progress_percent=0,
        progress_message="Queued.",
        student_id=student,
        request={"assign": {"num_items": 3}},
        attempt=0,
        max_attempts=3,
        seq=1,
        request_hash="h",
        webhook_url=None,
        created_at=now,
        updated_at=now,
    )


async def rows(db: Db) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    jobs = await (await db.execute("SELECT id, status, request, student_id FROM jobs")).fetchall()
    messages = await (
        await db.execute("SELECT entrypoint, payload, status::text AS status FROM pgqueuer")
    ).fetchall()
    return jobs, messages


async def test_the_job_and_its_queue_message_are_written_together(
    writer: PostgresJobWriter, db: Db
) -> None:
    job = a_job(await new_student(db))
    assert await writer.add_and_enqueue(job, in_flight_limit=10)
    jobs, messages = await rows(db)
    assert [(r["id"], r["status"], r["request"]) for r in jobs] == [
        (job.id, "pending", {"assign": {"num_items": 3}})
    ]
    assert messages == [{"entrypoint": ENTRYPOINT, "payload": job.id.bytes, "status": "queued"}]


async def test_the_in_flight_limit_and_the_student_refuse_without_writing(
    writer: PostgresJobWriter, db: Db
) -> None:
    student = await new_student(db)
    theirs = await new_student(db, tenant=uuid.uuid4())
    assert await writer.add_and_enqueue(a_job(student), in_flight_limit=2)
    assert await writer.add_and_enqueue(a_job(None), in_flight_limit=2)  # no student to check
    assert not await writer.add_and_enqueue(a_job(student), in_flight_limit=2)
    assert not await writer.add_and_enqueue(a_job(theirs), in_flight_limit=10)
    assert not await writer.add_and_enqueue(a_job(uuid.uuid4()), in_flight_limit=10)
    jobs, messages = await rows(db)
    assert len(jobs) == len(messages) == 2


async def test_a_connection_the_database_dropped_is_replaced_and_the_job_written_once(
    writer: PostgresJobWriter, db: Db
) -> None:
    student = await new_student(db)
    assert await writer.add_and_enqueue(a_job(student), in_flight_limit=10)  # a pooled connection
    killed = await (
        await db.execute(
            # with a timeout: returns once each backend has ended, not when it was told to
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    ).fetchall()
    assert killed
    job = a_job(student)
    assert await writer.add_and_enqueue(job, in_flight_limit=10)
    stats = writer.pool.get_stats()
    # the dead one was found when taken from the pool (its socket said so), not by a statement
    assert stats["connections_lost"] == 1 and "returns_bad" not in stats, stats
    jobs, messages = await rows(db)
    assert [r["id"] for r in jobs].count(job.id) == 1
    assert [m["payload"] for m in messages].count(job.id.bytes) == 1
    assert len(jobs) == len(messages) == 2


async def test_a_pool_whose_every_connection_the_database_ended_writes_at_once(
    postgres_database: str, db: Db
) -> None:
    """After a restart every pooled connection is dead: each is found so when taken from the
    pool (its socket says so), not by a failed statement, so no creation fails for it."""
    writer = PostgresJobWriter(postgres_conninfo(postgres_database), max_connections=4)
    await writer.open()
    try:
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
            assert await writer.add_and_enqueue(a_job(student), in_flight_limit=10)
    finally:
        await writer.close()
    jobs, messages = await rows(db)
    assert len(jobs) == len(messages) == 4


async def test_an_idempotency_key_inserts_once_even_from_two_requests_at_once(
    writer: PostgresJobWriter, db: Db
) -> None:
    student = await new_student(db)
    twins = [a_job(student) for _ in range(2)]
    for job in twins:
        job.idempotency_key = "order-1"
    inserted = await asyncio.gather(
        *(writer.add_and_enqueue(job, in_flight_limit=10) for job in twins)
    )
    assert sorted(inserted) == [False, True]
    later = a_job(student)
    later.idempotency_key = "order-1"
    assert not await writer.add_and_enqueue(later, in_flight_limit=10)
    jobs, messages = await rows(db)
    winner = twins[inserted.index(True)]
    assert [r["id"] for r in jobs] == [winner.id]
    assert [m["payload"] for m in messages] == [winner.id.bytes]
