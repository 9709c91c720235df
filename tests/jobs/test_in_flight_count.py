"""The count of a tenant's jobs in flight that job creation checks its limit against.

Kept by triggers on jobs in table `job_counts`: on PostgreSQL the sum of migration 008's rows
(one per server process since migration 014), on SQLite migration 021's one row per tenant.
Either must equal counting the jobs themselves (an upgrade and concurrent creations on SQLite:
test_sqlite_in_flight.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import uuid
from pathlib import Path

import psycopg
import pytest

from practicegen.auth.principal import DEFAULT_TENANT_ID
from practicegen.db import migrator
from practicegen.db.migrator import postgres_conninfo
from tests.jobs.conftest import Db
from tests.jobs.test_pg_store import a_job, add, made_store, new_student
from tests.support.processes import wait_until

# What "in flight" means, written out: the jobs counted against a tenant's limit.
IN_FLIGHT_PREDICATE = (
    "jobs.status IN ('pending', 'processing') AND jobs.job_type <> 'webhook_delivery'"
)
COUNTED = f"SELECT count(*) AS n FROM jobs WHERE jobs.tenant_id = %s AND {IN_FLIGHT_PREDICATE}"
INSERT = (
    "INSERT INTO jobs (id, tenant_id, job_type, student_id, request, max_attempts, request_hash)"
    " VALUES (%s, %s, 'practice_generation', %s, '{}', 3, 'h')"
)
KEPT = "SELECT coalesce(sum(in_flight), 0) AS n FROM job_counts WHERE tenant_id = %s"
# Every way a job moves in or out of flight, in order: (what is done to which of 40 jobs in
# flight, how many are in flight after).
MOVES = [
    ("SET status = 'processing'", slice(0, 30), 40),  # claimed
    ("SET progress_percent = 50", slice(0, 30), 40),
    ("SET status = 'completed'", slice(0, 10), 30),
    ("SET status = 'failed'", slice(10, 15), 25),
    ("SET status = 'cancelled'", slice(30, 35), 20),
    ("SET status = 'pending'", slice(10, 15), 25),  # retried
    ("DELETE", slice(0, 5), 25),  # finished ones expire
    ("DELETE", slice(35, 40), 20),  # live ones too
]


def moved(change: str, where: str) -> str:
    return f"DELETE FROM jobs {where}" if change == "DELETE" else f"UPDATE jobs {change} {where}"


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
    for change, which, expected in MOVES:
        await db.execute(moved(change, "WHERE id = ANY(%s)"), (ids[which],))
        assert await in_flight(db) == (expected, expected), change
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


def test_the_sqlite_count_follows_every_move_in_and_out_of_flight(tmp_path: Path) -> None:
    path = tmp_path / "count.db"
    asyncio.run(migrator.upgrade(f"sqlite+aiosqlite:///{path}"))
    tenant, other = uuid.uuid4().hex, uuid.uuid4().hex  # the triggers copy whatever is stored
    insert_job = (
        "INSERT INTO jobs (status, id, tenant_id, job_type, request, max_attempts, request_hash)"
        " VALUES (?, ?, ?, 'practice_generation', '{}', 3, 'h')"
    )
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:

        def in_flight_here(of: str = tenant) -> tuple[int, int]:
            counted = conn.execute(COUNTED.replace("%s", "?"), (of,)).fetchone()[0]
            return counted, conn.execute(KEPT.replace("%s", "?"), (of,)).fetchone()[0]

        ids = [uuid.uuid4().hex for _ in range(40)]
        for job in ids:
            conn.execute(insert_job, ("pending", job, tenant))
        conn.execute(insert_job, ("completed", uuid.uuid4().hex, tenant))
        conn.execute(insert_job, ("processing", uuid.uuid4().hex, other))
        assert in_flight_here() == (40, 40)
        for change, which, expected in MOVES:
            chosen = ids[which]
            where = f"WHERE id IN ({', '.join('?' * len(chosen))})"
            conn.execute(moved(change, where), chosen)
            assert in_flight_here() == (expected, expected), change
        conn.execute(
            "INSERT INTO jobs (id, tenant_id, job_type, status, request, max_attempts,"
            " request_hash) VALUES (?, ?, 'webhook_delivery', 'pending', '{}', 3, 'h')",
            (uuid.uuid4().hex, tenant),
        )
        conn.execute("UPDATE jobs SET status = 'completed' WHERE job_type = 'webhook_delivery'")
        assert in_flight_here() == (20, 20)  # the service's own deliveries do not count
        assert in_flight_here(other) == (1, 1)
        plan = conn.execute("EXPLAIN QUERY PLAN " + KEPT.replace("%s", "?"), (tenant,)).fetchall()
    assert "USING PRIMARY KEY" in str(plan)  # one row read, not the tenant's jobs


@pytest.mark.postgres
async def test_creations_held_open_at_once_wait_on_no_one_elses_count(
    postgres_database: str, db: Db
) -> None:
    """Each server process adds to its own row of the count: seventeen creating transactions
    open at once (more than any fixed number of shared rows) take no row lock from another."""
    student = await new_student(db)
    conninfo = postgres_conninfo(postgres_database)
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(17):
            conn = await stack.enter_async_context(await psycopg.AsyncConnection.connect(conninfo))
            await conn.execute("SET lock_timeout = '2s'")
            await conn.execute(INSERT, (uuid.uuid4(), DEFAULT_TENANT_ID, student))  # left open
            stack.push_async_callback(conn.commit)
    assert await in_flight(db) == (17, 17)


@pytest.mark.postgres
async def test_the_rows_of_ended_processes_fold_into_a_new_ones(
    postgres_database: str, db: Db
) -> None:
    student = await new_student(db)
    conninfo = postgres_conninfo(postgres_database)
    ended = []
    async with contextlib.AsyncExitStack() as stack:  # three processes alive at once
        for _ in range(3):
            conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
            await stack.enter_async_context(conn)
            await conn.execute(INSERT, (uuid.uuid4(), DEFAULT_TENANT_ID, student))
            ended.append(conn.info.backend_pid)
    rows = "SELECT count(*) AS n FROM job_counts WHERE tenant_id = %s"
    assert await (await db.execute(rows, (DEFAULT_TENANT_ID,))).fetchone() == {"n": 3}
    gone = "SELECT count(*) AS n FROM pg_stat_activity WHERE pid = ANY(%s)"
    await wait_until(lambda: _none_left(db, gone, ended), limit_s=10, what="the processes to end")
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        await conn.execute(INSERT, (uuid.uuid4(), DEFAULT_TENANT_ID, student))
    assert await (await db.execute(rows, (DEFAULT_TENANT_ID,))).fetchone() == {"n": 1}
    assert await in_flight(db) == (4, 4)


async def _none_left(db: Db, query: str, pids: list[int]) -> bool:
    return await (await db.execute(query, (pids,))).fetchone() == {"n": 0}
