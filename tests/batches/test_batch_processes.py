"""A batch across real processes on PostgreSQL: an API node, a worker killed (SIGKILL) while the
batch's students' jobs run, and a worker that takes over. Every student's job completes once,
and the batch completes once: one batch webhook, one assignment per student."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.test_practice import seed_bank
from tests.jobs.conftest import Db
from tests.jobs.test_processes import NODE_SETTINGS, SLOW_JOB, client, processing
from tests.support.processes import Cluster, wait_until
from tests.support.receiver import webhook_receiver

STUDENTS = 12


@pytest.fixture
async def cluster(postgres_database: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    settings = {**NODE_SETTINGS, "PRACTICEGEN_SSRF_ALLOWLIST": "127.0.0.1"}
    nodes = Cluster(postgres_database, tmp_path, settings)
    try:
        yield nodes
    finally:
        nodes.close()


@pytest.mark.postgres
async def test_a_batch_whose_worker_is_killed_completes_each_student_and_itself_once(
    cluster: Cluster, db: Db
) -> None:
    api = await cluster.start_api("api")
    async with webhook_receiver() as receiver, client(api) as http:
        await seed_bank(http)
        students = []
        for n in range(STUDENTS):
            made = await http.post("/api/v1/students", json={"display_name": f"S{n:02}"})
            students.append(made.json()["data"]["student_id"])
        klass = await http.post("/api/v1/classes", json={"name": "9", "student_ids": students})
        url = f"/api/v1/classes/{klass.json()['data']['class_id']}/assign/async"
        started = await http.post(url, json={**SLOW_JOB, "webhook_url": receiver.url})
        assert started.status_code == 202, started.text
        batch_id = started.json()["batch_id"]

        doomed = cluster.start_worker("doomed", PRACTICEGEN_JOB_CONCURRENCY="8")

        async def several_running() -> bool:
            running = await processing(db)
            return batch_id in running and len(running - {batch_id}) >= 3

        await wait_until(
            several_running, limit_s=60, what="the batch and its students' jobs running", every=0.02
        )
        doomed.kill_everything()
        survivor = cluster.start_worker("survivor")

        async def batch_ended() -> dict[str, Any] | None:
            assert survivor.running, survivor.describe()
            batch: dict[str, Any] = (await http.get(f"/api/v1/batches/{batch_id}")).json()["data"]
            return None if batch["status"] in ("pending", "processing") else batch

        batch = await wait_until(batch_ended, limit_s=90, what="the batch to end", every=0.2)
        assert batch["status"] == "completed", batch
        assert batch["counts"]["completed"] == STUDENTS

        await receiver.wait_for(STUDENTS + 1, timeout_s=60)
        events = Counter(json.loads(r.body)["event"] for r in receiver.received)
        assert events == {"practice.assignment.completed": STUDENTS, "practice.batch.completed": 1}

    rows = await (
        await db.execute("SELECT student_id, count(*) AS n FROM assignments GROUP BY student_id")
    ).fetchall()
    assert sorted(str(r["student_id"]) for r in rows) == sorted(students)
    assert {r["n"] for r in rows} == {1}  # each student's job wrote its assignment once
    attempts = await (
        await db.execute("SELECT attempt FROM jobs WHERE id = %s", (batch_id,))
    ).fetchone()
    assert attempts is not None and attempts["attempt"] == 2  # the doomed worker held it too
    said = [e for node in (doomed, survivor) for e in node.events("job.completed")]
    assert [e["job_id"] for e in said].count(batch_id) <= 1  # the batch's end was said once
