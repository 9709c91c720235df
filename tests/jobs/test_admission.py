"""Jobs held by the hundreds, bounded by memory: a real server, a real OpenAI-style model server.

A node running jobs holds every job that waits on the model at once while its resident memory
is under `PRACTICEGEN_JOB_MEMORY_MB`; past it, a message goes back to the queue unclaimed (no
attempt spent) and the node runs one job at a time until memory allows more, saying so in
`/metrics`. Both backends; the test process's own memory is far above the smallest bound, so
that bound is always past. Also: a worker raises its open-files limit to fit its model requests.
"""

from __future__ import annotations

import itertools
import re
import resource
from collections.abc import AsyncIterator

import httpx
import pytest

from practicegen.bootstrap import prepare
from practicegen.jobs.admission import resident_bytes
from practicegen.jobs.process import open_files_for
from tests.conftest import ADMIN_KEY, make_settings
from tests.support.fake_llm import FakeLlm, Mode, running_fake_llm
from tests.support.server import running_server

SLOW_S = 0.6
JOBS = 3
SMALLEST_MB = 64


@pytest.fixture
async def fake() -> AsyncIterator[FakeLlm]:
    async with running_fake_llm(FakeLlm(default=Mode.SLOW, slow_s=SLOW_S)) as server:
        yield server


def _metric(text: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", text, re.M)
    assert found is not None, f"{name} not in /metrics"
    return float(found.group(1))


async def _run_jobs(database_url: str, fake: FakeLlm, memory_mb: int) -> tuple[str, list[float]]:
    """Run `JOBS` model-bound jobs (a topic each, so each calls the model) on a node with
    `memory_mb`; its /metrics at the end, and the most jobs it ran at once as /metrics said."""
    settings = make_settings(
        database_url,
        run_worker=True,
        job_heartbeat_s=0.2,
        job_memory_mb=memory_mb,
        job_memory_defer_s=0.1,
        llm_base_url=fake.base_url,
        llm_model="fake-model",
    )
    await prepare(settings)
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    async with (
        running_server(settings) as server,
        httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=30) as client,
    ):
        student = (await client.post("/api/v1/students", json={})).json()["data"]["student_id"]
        jobs = []
        for index in range(JOBS):
            body = {"student_id": student, "subject": "Algebra", "topic": f"Held {index}"}
            created = await client.post(
                "/api/v1/practice/assign/async", json=body | {"num_items": 1}
            )
            assert created.status_code == 202, created.text
            jobs.append(created.json()["job_id"])
        running: list[float] = []
        for job_id in jobs:
            while True:
                metrics = (await client.get("/metrics")).text
                running.append(_metric(metrics, "practicegen_jobs_running"))
                polled = await client.get(f"/api/v1/jobs/{job_id}", params={"wait": 0.05})
                data = polled.json()["data"]
                if data["status"] not in ("pending", "processing"):
                    assert data["status"] == "completed", data
                    assert data["attempt"] == 1, data  # held back, it spent no attempt
                    break
        return (await client.get("/metrics")).text, running


async def test_past_its_memory_bound_a_node_runs_one_job_at_a_time(
    database_url: str, fake: FakeLlm
) -> None:
    assert resident_bytes() > SMALLEST_MB * 1024 * 1024  # the bound is past from the start
    metrics, running = await _run_jobs(database_url, fake, SMALLEST_MB)
    assert max(running) == 1
    arrivals = sorted(r.at for r in fake.requests)
    assert len(arrivals) == JOBS
    # each model request waited for the one before it to be answered
    assert all(b - a >= SLOW_S * 0.9 for a, b in itertools.pairwise(arrivals))
    assert _metric(metrics, "practicegen_jobs_held_back_total") >= 1
    assert _metric(metrics, "practicegen_memory_limit_bytes") == SMALLEST_MB * 1024 * 1024
    assert _metric(metrics, "practicegen_memory_resident_bytes") > SMALLEST_MB * 1024 * 1024
    assert _metric(metrics, "practicegen_job_slots") == 1000


async def test_under_its_memory_bound_a_node_holds_every_job_at_once(
    database_url: str, fake: FakeLlm
) -> None:
    metrics, _running = await _run_jobs(database_url, fake, 100_000)
    arrivals = sorted(r.at for r in fake.requests)
    assert len(arrivals) == JOBS
    assert arrivals[-1] - arrivals[0] < SLOW_S  # all asked before the first was answered
    assert _metric(metrics, "practicegen_jobs_held_back_total") == 0


def test_a_worker_raises_its_open_files_limit_to_fit_its_model_requests() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    settings = make_settings("sqlite+aiosqlite:///unused.db")
    needed = settings.llm_concurrency + 2 * settings.pool_connections
    assert hard == resource.RLIM_INFINITY or hard > needed  # else no limit can fit
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    try:
        assert open_files_for(settings) > needed
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] > needed
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
