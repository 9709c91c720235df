"""Cancelling jobs: a running job's work is interrupted; cancel racing completion ends once.

A real server with an in-process worker, on both backends; the slow part of a job is a real
OpenAI-compatible server (`tests/support/fake_llm.py`) that takes its time to answer.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from practicegen.bootstrap import prepare
from practicegen.config import Settings
from tests.api.test_errors import assert_error
from tests.conftest import ADMIN_KEY, make_settings
from tests.support.fake_llm import FakeLlm, Mode, running_fake_llm
from tests.support.server import RunningServer, running_server

GUIDE: dict[str, Any] = {"subject": "Algebra", "topic": "Linear Equations", "num_items": 3}


@pytest.fixture
async def fake() -> AsyncIterator[FakeLlm]:
    async with running_fake_llm(FakeLlm(seed=5)) as server:
        yield server


def settings_of(database_url: str, fake: FakeLlm, *, run_worker: bool = True) -> Settings:
    return make_settings(
        database_url,
        run_worker=run_worker,
        job_heartbeat_s=0.2,
        llm_base_url=fake.base_url,
        llm_timeout_s=60.0,
    )


def admin_client(server: RunningServer) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    return httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=30)


@pytest.fixture
async def server(database_url: str, fake: FakeLlm) -> AsyncIterator[RunningServer]:
    settings = settings_of(database_url, fake)
    await prepare(settings)
    async with running_server(settings) as running:
        yield running


@pytest.fixture
async def client(server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with admin_client(server) as c:
        yield c


async def start(client: httpx.AsyncClient) -> str:
    student = (await client.post("/api/v1/students", json={})).json()["data"]["student_id"]
    created = await client.post(
        "/api/v1/practice/assign/async", json=GUIDE | {"student_id": student}
    )
    assert created.status_code == 202, created.text
    job_id: str = created.json()["job_id"]
    return job_id


async def job(client: httpx.AsyncClient, job_id: str, **params: Any) -> dict[str, Any]:
    data: dict[str, Any] = (await client.get(f"/api/v1/jobs/{job_id}", params=params)).json()[
        "data"
    ]
    return data


async def lost_attempts(client: httpx.AsyncClient) -> float:
    text = (await client.get("/metrics")).text
    found = re.search(
        r'^practicegen_job_attempts_finished_total\{outcome="lost"\} (\S+)$', text, re.M
    )
    return float(found.group(1)) if found else 0.0


async def test_a_job_cancelled_while_queued_never_runs(database_url: str, fake: FakeLlm) -> None:
    """Cancelled while no worker runs, it stays cancelled once one starts: its queue message
    (PostgreSQL) or the start-up re-enqueue of unfinished jobs (embedded) gives it no attempt."""
    idle = settings_of(database_url, fake, run_worker=False)
    await prepare(idle)
    async with running_server(idle) as api, admin_client(api) as client:
        queued = await start(client)
        assert (await job(client, queued))["status"] == "pending"
        cancelled = await client.post(f"/api/v1/jobs/{queued}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["data"]["status"] == "cancelled"
    async with (
        running_server(settings_of(database_url, fake)) as node,
        admin_client(node) as client,
    ):
        later = await start(client)  # queued after it: done means the worker went past it
        async with asyncio.timeout(30):
            while (done := await job(client, later, wait=5))["status"] in ("pending", "processing"):
                pass
        assert done["status"] == "completed", done
        final = await job(client, queued)
    assert final["status"] == "cancelled" and final["attempt"] == 0 and final["result"] is None
    assert len(fake.requests) == GUIDE["num_items"]  # the later job's questions, no others


async def test_cancelling_a_running_job_interrupts_its_work(
    client: httpx.AsyncClient, fake: FakeLlm
) -> None:
    fake.default, fake.slow_s = Mode.SLOW, 30.0  # the model would take 30 s per question
    job_id = await start(client)
    async with asyncio.timeout(15):
        while True:
            if (await job(client, job_id))["progress_message"].startswith("Generating AI"):
                break
            await asyncio.sleep(0.05)
    assert fake.requests, "the model is being asked"
    cancelled = await client.post(f"/api/v1/jobs/{job_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["data"]["status"] == "cancelled"
    asked = time.monotonic()
    async with asyncio.timeout(10):  # well before the model would have answered
        while True:
            if await lost_attempts(client) >= 1:
                break
            await asyncio.sleep(0.1)
    assert time.monotonic() - asked < 10
    final = await job(client, job_id)
    assert final["status"] == "cancelled" and final["result"] is None
    items = (await client.get("/api/v1/items", params={"source": "llm"})).json()["data"]
    assert items["items"] == []  # nothing the interrupted attempt made was stored
    assert_error(await client.post(f"/api/v1/jobs/{job_id}/cancel"), 409, "job_not_cancellable")


async def test_cancel_racing_completion_ends_in_exactly_one_terminal_state(
    client: httpx.AsyncClient, fake: FakeLlm
) -> None:
    fake.default, fake.slow_s = Mode.SLOW, 0.5
    rng = random.Random(3)

    async def race(job_id: str, delay_s: float) -> str:
        """Cancel `delay_s` after the model is asked; the job's end."""
        async with asyncio.timeout(30):
            while True:  # asking the model (or, on a slow machine, already past it)
                now = await job(client, job_id)
                if now["progress_percent"] >= 20 or now["status"] != "pending":
                    break
                await asyncio.sleep(0.02)
        await asyncio.sleep(delay_s)
        answer = await client.post(f"/api/v1/jobs/{job_id}/cancel")
        async with asyncio.timeout(30):
            final = await job(client, job_id)
            while final["status"] not in ("completed", "cancelled", "failed"):
                final = await job(client, job_id, wait=5)
        if answer.status_code == 200:
            assert final["status"] == "cancelled" and final["result"] is None
        else:
            assert_error(answer, 409, "job_not_cancellable")
            assert final["status"] == "completed" and final["result"]["items"]
        again = await job(client, job_id)
        assert again["status"] == final["status"] and again["seq"] == final["seq"]
        status: str = final["status"]
        return status

    # at once (before the model answers), long after it has, and four times in between: one
    # round, as a completed job's questions join the bank and a later job would not ask the model
    delays = [0.0, 6 * fake.slow_s, *(rng.uniform(0.0, 2 * fake.slow_s) for _ in range(4))]
    jobs = [await start(client) for _ in delays]
    outcomes = await asyncio.gather(*(race(j, d) for j, d in zip(jobs, delays, strict=True)))
    assert outcomes[:2] == ["cancelled", "completed"], outcomes
