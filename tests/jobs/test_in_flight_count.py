"""The count of a tenant's jobs in flight that job creation checks its limit against.

On PostgreSQL it is the sum of the rows migration 008's triggers keep; on SQLite, a count over
migration 007's partial index. Either must equal counting the jobs themselves.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from pathlib import Path

import pytest

from practicegen.auth.principal import DEFAULT_TENANT_ID
from practicegen.db import migrator
from practicegen.jobs.sqlite_store import IN_FLIGHT_PREDICATE
from tests.jobs.conftest import Db
from tests.jobs.test_pg_store import a_job, add, made_store, new_student

COUNTED = f"SELECT count(*) AS n FROM jobs WHERE jobs.tenant_id = %s AND {IN_FLIGHT_PREDICATE}"
KEPT = "SELECT coalesce(sum(in_flight), 0) AS n FROM job_counts WHERE tenant_id = %s"


async def in_flight(db: Db, tenant: uuid.UUID = DEFAULT_TENANT_ID) -> tuple[int, int]:
    """(counted from the jobs, kept by the triggers)."""
    counted = await (await db.execute(COUNTED, (tenant,))).fetchone()
    kept = await (await db.execute(KEPT, (tenant,))).fetchone()
    assert counted is not None and kept is not None
    return counted["n"], kept["n"]


@pytest.mark.postgres
async def test_the_kept_count_follows_every_move_in_and_out_of_flight(
    postgres_database: str, db: Db
) -> None:
    student = await new_student(db)
    other = uuid.uuid4()
    await new_student(db, tenant=other)
    async with made_store(postgres_database, 4) as store:
        jobs = [a_job(student) for _ in range(40)]
        # from four connections at once: the count is spread over their rows
        added = await asyncio.gather(*(add(store, job, 1000) for job in jobs))
    assert all(added)
    assert await in_flight(db) == (40, 40)
    ids = [job.id for job in jobs]
    moves = [
        ("UPDATE jobs SET status = 'processing' WHERE id = ANY(%s)", ids[:30], 40),  # claimed
        ("UPDATE jobs SET progress_percent = 50 WHERE id = ANY(%s)", ids[:30], 40),
        ("UPDATE jobs SET status = 'completed' WHERE id = ANY(%s)", ids[:10], 30),
        ("UPDATE jobs SET status = 'failed' WHERE id = ANY(%s)", ids[10:15], 25),
        ("UPDATE jobs SET status = 'cancelled' WHERE id = ANY(%s)", ids[30:35], 20),
        ("UPDATE jobs SET status = 'pending' WHERE id = ANY(%s)", ids[10:15], 25),  # retried
        ("DELETE FROM jobs WHERE id = ANY(%s)", ids[:5], 25),  # finished ones expire
        ("DELETE FROM jobs WHERE id = ANY(%s)", ids[35:40], 20),  # live ones too
    ]
    for statement, which, expected in moves:
        await db.execute(statement, (which,))
        assert await in_flight(db) == (expected, expected), statement
    await db.execute(
        "INSERT INTO jobs (id, tenant_id, job_type, status, request, max_attempts, request_hash)"
        " VALUES (%s, %s, 'webhook_delivery', 'pending', '{}', 3, 'h')",
        (uuid.uuid4(), DEFAULT_TENANT_ID),
    )
    assert await in_flight(db) == (20, 20)  # the service's own deliveries do not count
    assert await in_flight(db, other) == (0, 0)


@pytest.mark.postgres
async def test_the_migration_counts_the_jobs_already_in_flight(
    postgres_database: str, db: Db
) -> None:
    """Applied by hand again (as by psql) over live jobs, it starts from their count."""
    student = await new_student(db)
    for status in ("pending", "processing", "completed", "pending"):
        job = a_job(student)
        await db.execute(
            "INSERT INTO jobs (id, tenant_id, job_type, status, student_id, request,"
            " max_attempts, request_hash)"
            " VALUES (%s, %s, 'practice_generation', %s, %s, '{}', 3, 'h')",
            (job.id, DEFAULT_TENANT_ID, status, student),
        )
    await db.execute("UPDATE job_counts SET in_flight = in_flight + 100")  # wrong on purpose
    (migration,) = [m for m in migrator.available_migrations() if m.version == "008"]
    await db.execute(migration.sql.encode())
    assert await in_flight(db) == (3, 3)


def test_the_sqlite_count_reads_the_partial_index(tmp_path: Path) -> None:
    """The predicate is written as literals so that SQLite's planner can match migration
    007's partial index even when the tenant and the limit are parameters."""
    path = tmp_path / "count.db"
    asyncio.run(migrator.upgrade(f"sqlite+aiosqlite:///{path}"))
    with sqlite3.connect(path) as conn:
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT count(*) FROM (SELECT 1 FROM jobs"
            f" WHERE jobs.tenant_id = ? AND {IN_FLIGHT_PREDICATE} LIMIT ?)",
            (str(DEFAULT_TENANT_ID), 100),
        ).fetchall()
    assert "jobs_in_flight" in str(plan)
