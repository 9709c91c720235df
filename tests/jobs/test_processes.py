"""Distributed jobs across real processes: API nodes and `practicegen worker`s on one PostgreSQL.

The in-process job tests cannot show what matters once jobs leave the API process: that a job
created on one node is seen on another and runs on whichever worker takes it, that a worker
dying mid-job (SIGKILL, no chance to clean up) leaves no job stuck and no result written twice,
that a worker stopped for a deploy (SIGTERM) finishes or hands back what it holds, and that the
job row and its queue message commit or roll back together.

Jobs are made slow honestly: each asks for practice on a topic the seeded bank lacks, so every
item is generated and checked with sympy in the worker's process pool (about a second a job on
a small machine), which leaves time to stop a worker while its jobs are running. Every job is
for its own student, so "written once" is checkable: exactly one assignment row per student.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Collection
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.auth.principal import DEFAULT_TENANT_ID
from practicegen.auth.service import ensure_default_tenant
from practicegen.config import Settings
from practicegen.db.engine import create_engine, create_sessionmaker
from practicegen.db.migrator import postgres_conninfo
from practicegen.jobs.pg_store import PostgresJobStore
from practicegen.jobs.queue import PostgresQueue
from practicegen.jobs.service import NewJob, create_job
from tests.api.test_errors import assert_error
from tests.api.test_practice import seed_bank
from tests.conftest import ADMIN_KEY
from tests.jobs.conftest import Db
from tests.support.fake_llm import FakeLlm, Mode, running_fake_llm
from tests.support.processes import Cluster, Node, wait_until
from tests.support.server import free_port

SLOW_JOB = {"subject": "Algebra", "topic": "Quadratic Equations", "num_items": 10}
"""A topic the seeded bank has no items for: the first jobs generate and check every item
(later ones may find those in the bank)."""
MODEL_JOB = {"subject": "Algebra", "topic": "Linear Equations", "num_items": 3}
"""On an empty bank with a model configured: every question is the model's."""

NODE_SETTINGS = {
    "PRACTICEGEN_API_KEY": ADMIN_KEY,
    "PRACTICEGEN_DEMO_BANK": "false",
    "PRACTICEGEN_RUN_WORKER": "false",  # API nodes only create jobs
    "PRACTICEGEN_JOB_HEARTBEAT_S": "0.5",
    "PRACTICEGEN_JOB_HEARTBEAT_TIMEOUT_S": "3",
    "PRACTICEGEN_QUEUE_POLL_S": "0.5",
    "PRACTICEGEN_JOB_RETRY_BASE_S": "0.2",
    "PRACTICEGEN_GENERATOR_WORKERS": "1",
    # each pool of a node at most 10 connections (twice this), not 20: a test's nodes then hold
    # little enough of the server's 100 that two such tests run at once beside the suite
    "PRACTICEGEN_DB_POOL_SIZE": "5",
    # within those 10: a planning attempt holds a connection while it generates, so more
    # attempts than connections time out waiting and are retried
    "PRACTICEGEN_JOB_CONCURRENCY": "8",
    "PRACTICEGEN_LOG_LEVEL": "INFO",
    "PRACTICEGEN_LOG_FORMAT": "json",
}


@pytest.fixture
async def cluster(postgres_database: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    nodes = Cluster(postgres_database, tmp_path, dict(NODE_SETTINGS))
    try:
        yield nodes
    finally:
        nodes.close()


def client(node: Node) -> httpx.AsyncClient:
    assert node.base_url is not None
    return httpx.AsyncClient(
        base_url=node.base_url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=30
    )


async def create_jobs(http: httpx.AsyncClient, count: int) -> list[str]:
    """`count` slow async assigns, each for a new student; their job ids."""
    ids = []
    for n in range(count):
        made = await http.post("/api/v1/students", json={"display_name": f"Student {n}"})
        student = made.json()["data"]["student_id"]
        response = await http.post(
            "/api/v1/practice/assign/async", json={"student_id": student, **SLOW_JOB}
        )
        assert response.status_code == 202, response.text
        ids.append(response.json()["job_id"])
    return ids


async def jobs(db: Db) -> dict[str, dict[str, Any]]:
    rows = await (
        await db.execute("SELECT id, status, attempt, student_id, result, error FROM jobs")
    ).fetchall()
    return {str(row["id"]): row for row in rows}


async def processing(db: Db) -> set[str]:
    return {job_id for job_id, row in (await jobs(db)).items() if row["status"] == "processing"}


async def queue_rows(db: Db) -> list[dict[str, Any]]:
    return await (await db.execute("SELECT id, status, payload FROM pgqueuer")).fetchall()


async def all_completed(db: Db, count: int, *nodes: Node) -> dict[str, dict[str, Any]]:
    """Wait until `count` jobs exist and all completed (failing fast if a worker died)."""

    async def done() -> dict[str, dict[str, Any]] | None:
        for node in nodes:
            assert node.running, node.describe()
        rows = await jobs(db)
        if len(rows) == count and all(r["status"] == "completed" for r in rows.values()):
            return rows
        return None

    try:
        return await wait_until(done, limit_s=45, what="every job to complete", every=0.1)
    except AssertionError:
        states = sorted((r["status"], r["attempt"]) for r in (await jobs(db)).values())
        raise AssertionError(f"jobs: {states}\n" + "\n".join(n.describe() for n in nodes)) from None


async def assert_written_once(db: Db, rows: dict[str, dict[str, Any]]) -> None:
    """Each job's student has exactly one assignment, the one the job's result names."""
    assignments = await (await db.execute("SELECT id, student_id FROM assignments")).fetchall()
    per_student = Counter(str(a["student_id"]) for a in assignments)
    assert sorted(per_student) == sorted(str(row["student_id"]) for row in rows.values())
    assert set(per_student.values()) == {1}
    by_student = {str(a["student_id"]): str(a["id"]) for a in assignments}
    for row in rows.values():
        assert by_student[str(row["student_id"])] == row["result"]["assignment_id"]
        assert row["result"]["items"]


async def queue_emptied(db: Db) -> None:
    """Every queue message was consumed: none is left queued or picked."""

    async def empty() -> bool:
        return not await queue_rows(db)

    await wait_until(empty, limit_s=10, what="the queue to be empty")


async def sessions_ended(db: Db, application_name: str) -> None:
    """Wait until the database has ended every session a dead node opened as `application_name`."""

    async def ended() -> bool:
        cursor = await db.execute(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = %s",
            (application_name,),
        )
        row = await cursor.fetchone()
        return row is not None and row["n"] == 0

    await wait_until(ended, limit_s=10, what=f"the sessions of {application_name} to end")


def completed_by(node: Node) -> list[str]:
    return [e["job_id"] for e in node.events("job.completed")]


async def completions_logged(expected: Collection[str], *nodes: Node) -> None:
    """Wait until `nodes` have logged each `expected` job's completion: a worker says so just
    after its commit, so a test reading the rows can see a completion before the log does."""

    async def logged() -> bool:
        return set(expected) <= {job for node in nodes for job in completed_by(node)}

    await wait_until(logged, limit_s=10, what=f"{len(expected)} completions in the logs")


@pytest.mark.postgres
async def test_jobs_created_on_one_api_run_on_either_worker_and_show_on_the_other(
    cluster: Cluster, db: Db
) -> None:
    workers = [  # spawned first: they boot while the API nodes do
        cluster.start_worker(name, PRACTICEGEN_JOB_CONCURRENCY="2")
        for name in ("worker-1", "worker-2")
    ]
    # one after the other: two nodes preparing a fresh database at once race to create the
    # default tenant, and one of them fails to start
    api_a = await cluster.start_api("api-a")
    api_b = await cluster.start_api("api-b")
    async with client(api_a) as a, client(api_b) as b:
        await seed_bank(a)
        ids = await create_jobs(a, 8)
        for job_id in ids:  # seen on the other node at once: the row is the truth
            seen = await b.get(f"/api/v1/jobs/{job_id}")
            assert seen.status_code == 200 and seen.json()["data"]["job_id"] == job_id
        rows = await all_completed(db, len(ids), *workers)
        await completions_logged(ids, *workers)
        listed = (await b.get("/api/v1/jobs", params={"status": "completed"})).json()["data"]
        assert sorted(j["job_id"] for j in listed["items"]) == sorted(ids)
        for job_id in ids:
            data = (await b.get(f"/api/v1/jobs/{job_id}")).json()["data"]
            assert data["status"] == "completed" and data["progress_percent"] == 100
    assert all(row["attempt"] == 1 for row in rows.values())  # none was ever re-picked
    ran = [completed_by(w) for w in workers]
    assert sorted(ran[0] + ran[1]) == sorted(ids)  # each completed once, by one worker
    assert ran[0] and ran[1], "both workers took jobs"
    await assert_written_once(db, rows)
    await queue_emptied(db)


@pytest.mark.postgres
async def test_a_worker_killed_mid_job_leaves_nothing_stuck_and_writes_each_result_once(
    cluster: Cluster, db: Db
) -> None:
    api = await cluster.start_api("api")
    async with client(api) as http:
        await seed_bank(http)
        ids = await create_jobs(http, 24)
    # started once every job waits, so its first claims all meet an empty bank and run long
    doomed = cluster.start_worker("doomed", PRACTICEGEN_JOB_CONCURRENCY="8", PGAPPNAME="doomed")

    async def several_running() -> bool:
        return len(await processing(db)) >= 3

    await wait_until(several_running, limit_s=60, what="jobs to be running", every=0.02)
    doomed.kill_everything()  # SIGKILL: no drain, no release, no last words
    # a COMMIT the worker sent just before it died still runs once its session reads it
    await sessions_ended(db, "doomed")
    killed = await processing(db)  # still held by the dead worker: it stopped them mid-job
    assert killed
    survivor = cluster.start_worker("survivor")
    rows = await all_completed(db, len(ids), survivor)
    await completions_logged(killed, survivor)
    for job_id, row in rows.items():
        # a killed job was claimed once more (by the survivor, after the queue heartbeat went
        # stale) and never again; every other job was claimed once
        assert row["attempt"] == (2 if job_id in killed else 1), (job_id, row["attempt"])
    by_doomed, by_survivor = completed_by(doomed), completed_by(survivor)
    assert killed <= set(by_survivor)
    assert not killed & set(by_doomed)  # a worker says a job completed once it has committed
    assert not set(by_doomed) & set(by_survivor)
    # what neither said it completed, the doomed worker committed just before it was killed,
    # before it could say so: once, at the first attempt, as the loop above checked
    unsaid = set(ids) - set(by_doomed) - set(by_survivor)
    assert len(by_doomed) + len(by_survivor) + len(unsaid) == len(ids)
    assert len(unsaid) <= 8, unsaid  # at most the doomed worker's concurrency
    await assert_written_once(db, rows)
    await queue_emptied(db)


SLOW_JOB_HEARTBEAT_TIMEOUT_S = 2.0
"""The queue's heartbeat timeout in the slow-job test: its workers beat every half of it and
write each beat within an eighth, so a live job's beat is at most 1.25 s old against 2 s."""


@pytest.mark.postgres
async def test_a_slow_job_on_a_live_worker_is_never_run_twice(cluster: Cluster, db: Db) -> None:
    """A job four times as long as the heartbeat timeout (the 45 s job against the default
    30 s, scaled to this test's 2 s) stays with its worker: the idle worker beside it never
    takes it, the model is asked once, and it completes at its first attempt."""
    timeout_s = SLOW_JOB_HEARTBEAT_TIMEOUT_S
    cluster.settings["PRACTICEGEN_JOB_HEARTBEAT_TIMEOUT_S"] = str(timeout_s)
    async with running_fake_llm(FakeLlm(seed=3)) as fake:
        fake.default, fake.slow_s = Mode.SLOW, 4 * timeout_s
        model = {"PRACTICEGEN_LLM_BASE_URL": fake.base_url, "PRACTICEGEN_LLM_TIMEOUT_S": "60"}
        workers = [cluster.start_worker(name, **model) for name in ("worker-1", "worker-2")]
        api = await cluster.start_api("api", **model)
        async with client(api) as http:
            made = await http.post("/api/v1/students", json={"display_name": "Sam"})
            body = {"student_id": made.json()["data"]["student_id"], **MODEL_JOB}
            response = await http.post("/api/v1/practice/assign/async", json=body)
            assert response.status_code == 202, response.text
            job_id = response.json()["job_id"]
        rows = await all_completed(db, 1, *workers)
        await completions_logged([job_id], *workers)
        asked = [r.at for r in fake.requests]
    assert rows[job_id]["attempt"] == 1
    ran = await (
        await db.execute("SELECT extract(epoch FROM finished_at - started_at) AS s FROM jobs")
    ).fetchone()
    assert ran is not None and float(ran["s"]) >= 4 * timeout_s  # it did outlast it 4 times
    assert len(asked) == MODEL_JOB["num_items"] and max(asked) - min(asked) < fake.slow_s
    started = [[e["job_id"] for e in w.events("job.started")] for w in workers]
    assert sorted(started[0] + started[1]) == [job_id]  # one worker ever started it
    assert sorted(completed_by(workers[0]) + completed_by(workers[1])) == [job_id]
    await assert_written_once(db, rows)
    await queue_emptied(db)


@pytest.mark.postgres
async def test_sigterm_lets_running_jobs_finish_takes_no_new_ones_and_exits_0(
    cluster: Cluster, db: Db
) -> None:
    api = await cluster.start_api("api")
    async with client(api) as http:
        await seed_bank(http)
        ids = await create_jobs(http, 12)
    stopping = cluster.start_worker(
        "stopping", "--drain-seconds", "25", PRACTICEGEN_JOB_CONCURRENCY="4"
    )

    async def running() -> set[str] | None:
        return await processing(db) or None

    running_at_signal = await wait_until(running, limit_s=30, what="a job running", every=0.02)
    # to the whole process group, as a terminal's Ctrl-C or systemd's default stop does: the
    # generator pool must not die of it while the worker drains
    stopping.signal_group(signal.SIGTERM)
    assert await stopping.wait_exit(limit_s=25) == 0  # within the grace
    assert [e["drained"] for e in stopping.events("worker.stopped")] == [True]
    rows = await jobs(db)
    finished = {job_id for job_id, row in rows.items() if row["status"] == "completed"}
    assert running_at_signal <= finished  # what was running was finished, not dropped
    assert finished == set(completed_by(stopping))
    for job_id, row in rows.items():  # nothing is left in a stopped worker's hands
        assert row["status"] in ("completed", "pending"), (job_id, row["status"])
        assert row["attempt"] == (1 if job_id in finished else 0)
    assert {r["status"] for r in await queue_rows(db)} <= {"queued"}
    assert stopping.stdout() == ""  # logs only, every line of them JSON on stderr
    assert len(stopping.events()) == len(stopping.stderr_lines())
    assert not stopping.events("job.retry_scheduled")

    successor = cluster.start_worker("successor")
    rows = await all_completed(db, len(ids), successor)
    await completions_logged(set(ids) - set(completed_by(stopping)), successor)
    assert all(row["attempt"] == 1 for row in rows.values())
    assert sorted(completed_by(stopping) + completed_by(successor)) == sorted(ids)
    await assert_written_once(db, rows)
    await queue_emptied(db)


@pytest.mark.postgres
async def test_sigterm_past_the_grace_hands_running_jobs_to_another_worker(
    cluster: Cluster, db: Db
) -> None:
    api = await cluster.start_api("api")
    async with client(api) as http:
        await seed_bank(http)
        ids = await create_jobs(http, 8)
    hasty = cluster.start_worker("hasty", "--drain-seconds", "0", PRACTICEGEN_JOB_CONCURRENCY="4")

    async def several_running() -> bool:
        return len(await processing(db)) >= 2

    await wait_until(several_running, limit_s=60, what="jobs to be running", every=0.02)
    hasty.send(signal.SIGTERM)
    assert await hasty.wait_exit(limit_s=20) == 0
    released = await processing(db)
    assert released, "some jobs were still running when the grace ended"
    assert [e["drained"] for e in hasty.events("worker.stopped")] == [False]
    # their messages are back in the queue, not dropped with the cancelled attempts
    queued = {uuid.UUID(bytes=r["payload"]).hex for r in await queue_rows(db)}
    assert {uuid.UUID(j).hex for j in released} <= queued

    successor = cluster.start_worker("successor")
    rows = await all_completed(db, len(ids), successor)
    for job_id in released:
        assert rows[job_id]["attempt"] == 2
    # the successor said each job it completed; the hasty worker may have been cut off between
    # its COMMIT and saying so, and the rows are the record of who did it
    said = completed_by(hasty) + completed_by(successor)
    assert len(said) == len(set(said)) and set(said) <= set(ids)
    assert set(completed_by(successor)) >= released
    await assert_written_once(db, rows)
    await queue_emptied(db)


@pytest.mark.postgres
async def test_a_refused_async_assign_leaves_no_job_and_no_queue_message(
    cluster: Cluster, db: Db
) -> None:
    api = await cluster.start_api("api")
    async with client(api) as http:
        await seed_bank(http)
        made = await http.post("/api/v1/students", json={"display_name": "Sam"})
        student = made.json()["data"]["student_id"]
        url = "/api/v1/practice/assign/async"
        unknown = await http.post(url, json={**SLOW_JOB, "student_id": student, "subject": "X"})
        assert_error(unknown, 422, "unknown_subject")
        nobody = await http.post(url, json={**SLOW_JOB, "student_id": str(uuid.uuid4())})
        assert_error(nobody, 404, "student_not_found")
    assert await jobs(db) == {}
    assert await queue_rows(db) == []


@pytest.mark.postgres
async def test_a_job_row_and_its_queue_message_commit_or_roll_back_together(
    postgres_database: str, db: Db
) -> None:
    settings = Settings(_env_file=None, database_url=postgres_database)
    engine = create_engine(settings)
    queue = PostgresQueue(postgres_conninfo(postgres_database), heartbeat_timeout_s=3, poll_s=0.5)
    new = NewJob(DEFAULT_TENANT_ID, "practice_generation", {"assign": {}}, 3, in_flight_limit=10)
    try:
        sessionmaker = create_sessionmaker(engine)
        store = PostgresJobStore(
            postgres_conninfo(postgres_database),
            sessionmaker,
            lanes=queue.lanes,
            clock=lambda: datetime.now(UTC),
            max_connections=1,
        )
        async with sessionmaker() as session, session.begin():
            await ensure_default_tenant(session)
        for commit in (False, True):
            async with sessionmaker() as session:
                await session.begin()
                created = await create_job(session, store=store, new=new, now=datetime.now(UTC))
                # both are written inside the request's transaction...
                assert await count(session, "jobs") == 1
                assert await count(session, "pgqueuer") == 1
                await (session.commit() if commit else session.rollback())
            rows, messages = await jobs(db), await queue_rows(db)
            if commit:
                assert list(rows) == [str(created.job.id)]
                assert [uuid.UUID(bytes=m["payload"]) for m in messages] == [created.job.id]
            else:  # ...so when the request fails after both writes, neither survives
                assert rows == {} and messages == []
    finally:
        await engine.dispose()


async def count(session: AsyncSession, table: str) -> int:
    return int((await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


def test_the_worker_refuses_sqlite(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRACTICEGEN_")}
    env["PRACTICEGEN_DATABASE_URL"] = f"sqlite:///{tmp_path / 'practicegen.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "practicegen", "worker"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert "needs PostgreSQL" in done.stderr and "practicegen serve" in done.stderr
    assert not (tmp_path / "practicegen.db").exists()


async def test_a_worker_serves_its_own_metrics_with_its_memory_bound(cluster: Cluster) -> None:
    port = free_port()
    worker = cluster.start_worker(
        "measured", PRACTICEGEN_WORKER_METRICS_PORT=str(port), PRACTICEGEN_JOB_MEMORY_MB="300"
    )
    await worker.wait_running(limit_s=30)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
        text = (await http.get("/metrics")).text
    values = dict(
        line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#")
    )
    assert float(values["practicegen_memory_limit_bytes"]) == 300 * 1024 * 1024
    assert 0 < float(values["practicegen_memory_resident_bytes"]) < 300 * 1024 * 1024
    assert float(values["practicegen_job_slots"]) == 8  # the cluster's setting
    assert float(values["practicegen_jobs_running"]) == 0
    assert float(values["practicegen_jobs_held_back_total"]) == 0
    assert "# TYPE practicegen_job_attempts_finished_total counter" in text
    assert "practicegen_job_attempt_seconds_count 0.0" in text
    assert "practicegen_queue_depth" not in text  # the cluster's gauges are the API's to show
