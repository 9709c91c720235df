"""PostgreSQL restarted in the middle of 200 jobs: every job still reaches a terminal state.

An API process and a worker process run against a PostgreSQL server of the test's own
(`tests/support/private_postgres.py`), which is restarted, dropping every connection, while
jobs are being created and run. Clients retry what the restart refused (as the 503 and
`Retry-After` ask them to); every job that was accepted must complete, exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.api.test_practice import seed_bank
from tests.conftest import ADMIN_KEY
from tests.jobs.test_processes import NODE_SETTINGS
from tests.support.private_postgres import PrivatePostgres, private_postgres
from tests.support.processes import Cluster, wait_until

JOBS = 200
BODY = {"subject": "Algebra", "topic": "Linear Equations", "num_items": 2}


@pytest.fixture
def server() -> Iterator[PrivatePostgres]:
    with private_postgres() as running:
        yield running


async def create(http: httpx.AsyncClient, student: str) -> str:
    """One job, retried while the database is away; the accepted job's id."""
    for _ in range(200):
        try:
            answer = await http.post(
                "/api/v1/practice/assign/async", json=BODY | {"student_id": student}
            )
        except httpx.TransportError:
            answer = None
        if answer is not None and answer.status_code == 202:
            job_id: str = answer.json()["job_id"]
            return job_id
        await asyncio.sleep(0.2)
    last = answer.text if answer is not None else "no answer"
    raise AssertionError(f"the API never accepted the job again after the restart: {last}")


@pytest.mark.postgres
async def test_every_job_ends_after_a_postgres_restart(
    server: PrivatePostgres, tmp_path: Path
) -> None:
    settings = dict(NODE_SETTINGS, PRACTICEGEN_JOB_MAX_IN_FLIGHT=str(JOBS))
    cluster = Cluster(server.url, tmp_path, settings)
    try:
        api = await cluster.start_api("api")
        worker = cluster.start_worker("worker")
        await worker.wait_running()  # else a restart while it starts stops it, not its jobs
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        async with httpx.AsyncClient(
            base_url=api.base_url or "", headers=headers, timeout=10
        ) as http:
            await seed_bank(http)
            students = [
                (await http.post("/api/v1/students", json={})).json()["data"]["student_id"]
                for _ in range(10)
            ]
            # the restart starts once a few of the first half are accepted, the rest in flight
            first_half = [
                asyncio.create_task(create(http, students[i % 10])) for i in range(JOBS // 2)
            ]
            some_accepted = asyncio.Event()

            def counted(_: object) -> None:
                if sum(task.done() for task in first_half) >= 10:
                    some_accepted.set()

            for task in first_half:
                task.add_done_callback(counted)
            await some_accepted.wait()
            restart = asyncio.create_task(asyncio.to_thread(server.restart))
            in_flight = sum(not task.done() for task in first_half)
            assert in_flight, "the restart must catch creations and jobs mid-run"
            first = await asyncio.gather(*first_half)
            await restart
            second = await asyncio.gather(
                *(create(http, students[i % 10]) for i in range(JOBS // 2))
            )
        accepted = list(first) + list(second)
        assert len(set(accepted)) == JOBS

        async def all_finished() -> dict[str, int] | None:
            try:
                async with await psycopg.AsyncConnection.connect(
                    f"host=127.0.0.1 port={server.port} user=postgres dbname=postgres"
                ) as db:
                    rows = await (
                        await db.execute(
                            "SELECT status, count(*) FROM jobs WHERE id = ANY(%s::uuid[])"
                            " GROUP BY status",
                            (accepted,),
                        )
                    ).fetchall()
            except psycopg.OperationalError:
                return None
            counts = {status: n for status, n in rows}
            return counts if sum(counts.values()) == counts.get("completed", 0) == JOBS else None

        try:
            await wait_until(all_finished, limit_s=120, what="every job to complete", every=0.5)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{worker.describe()}\n{api.describe()}") from None
        assert worker.running and api.running
    finally:
        cluster.close()
