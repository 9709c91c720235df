"""A fresh `practicegen serve` starts its grading processes, and its generator processes if it
runs jobs, by itself and warms them before `/readyz` first says ready, so the first answer a
student sends is not the one that waits for them; a node starts only the pools it uses (an API
node whose jobs run elsewhere no generators, a worker no graders); and they end with it, even
when it is killed outright. A node that starts them at first use and cannot answers that
request with a 503 to retry, not a hang or a 500."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from pathlib import Path

import httpx
import pytest

from practicegen.grading import grader, sympy_pool
from practicegen.grading.sympy_pool import WARM_UP
from tests.api.factories import item_body
from tests.api.test_errors import assert_error
from tests.api.test_practice import assign, new_student, seed_bank
from tests.guide.serve import Serve, practicegen_serve
from tests.jobs.test_processes import NODE_SETTINGS
from tests.support.processes import Cluster, wait_until

GRADING_NICENESS = 10  # grading processes run at a lower priority; generator processes do not


@dataclass(frozen=True)
class PoolProcess:
    pid: int
    nice: int
    command: bytes


def pool_members(group: int) -> list[PoolProcess]:
    """Processes of process group `group` that the fork server started (and it itself)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            command = (proc / "cmdline").read_bytes()
            if int(stat[2]) == group and b"forkserver" in command:
                found.append(PoolProcess(int(proc.name), int(stat[16]), command))
    return found


def pool_processes(group: int) -> int:
    return len(pool_members(group))


@contextlib.asynccontextmanager
async def serve_with_pools(tmp_path: Path) -> AsyncIterator[Serve]:
    """A fresh serve, once its fork server, 2 graders and 2 sympy processes run, with nothing
    asked of it but /readyz."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'practicegen.db'}"
    workers = {"PRACTICEGEN_GRADER_WORKERS": "2", "PRACTICEGEN_GENERATOR_WORKERS": "2"}
    async with practicegen_serve(url, tmp_path, **workers) as serve:

        async def started() -> bool:
            return pool_processes(serve.process.pid) >= 5

        await wait_until(started, limit_s=60, what="the pools' processes", every=0.2)
        yield serve


async def test_serve_starts_its_pools_before_any_request_needs_them(tmp_path: Path) -> None:
    async with serve_with_pools(tmp_path) as serve:
        assert serve.process.returncode is None


async def test_the_pools_processes_end_when_serve_is_killed_outright(tmp_path: Path) -> None:
    async with serve_with_pools(tmp_path) as serve:
        serve.process.kill()  # SIGKILL to serve alone: nothing of it shuts the pools down
        await serve.process.wait()

        async def gone() -> bool:
            return pool_processes(serve.process.pid) == 0

        await wait_until(gone, limit_s=15, what="the pools' processes to end", every=0.2)


def _cannot_fork(_context: BaseContext) -> None:
    raise OSError("Resource temporarily unavailable")


async def test_grading_processes_that_cannot_start_are_a_503_then_start_later(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed_bank(client)
    student = await new_student(client)
    data = (await assign(client, student_id=student, subject="Algebra", num_items=1)).json()
    url = f"/api/v1/assignments/{data['data']['assignment_id']}/responses"
    answer = {"position": 1, "answer": "x = 1"}
    with monkeypatch.context() as patched:
        patched.setattr(grader._Worker, "start", _cannot_fork)
        refused = await asyncio.wait_for(client.post(url, json=answer), timeout=30)
    assert_error(refused, 503, "processes_unavailable")
    assert refused.headers["Retry-After"] == "5"
    graded = await asyncio.wait_for(client.post(url, json=answer), timeout=60)
    assert graded.status_code == 201, graded.text


async def test_sympy_processes_that_die_at_start_are_a_503(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sympy_pool, "_in_pool_process", os._exit)  # each process exits at once
    document = {"format": "practicegen-bank", "version": 1, "items": [item_body()]}
    refused = await asyncio.wait_for(client.post("/api/v1/items/import", json=document), 30)
    assert_error(refused, 503, "processes_unavailable")


async def test_the_grading_pool_is_warm_when_readyz_first_says_ready(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'practicegen.db'}"
    workers = {"PRACTICEGEN_GRADER_WORKERS": "2", "PRACTICEGEN_GENERATOR_WORKERS": "1"}
    async with practicegen_serve(url, tmp_path, **workers) as serve:  # just ready
        members = pool_members(serve.process.pid)
        graders = [m for m in members if m.nice == GRADING_NICENESS]
        assert len(members) == 1 + 2 + 1 and len(graders) == 2, members  # the server, 2, 1
        # each is the fork server or forked from it (their command line is its own), which
        # warmed sympy as it started, after its other preloads
        preloads = members[0].command
        assert WARM_UP.encode() in preloads, preloads
        assert preloads.index(WARM_UP.encode()) > preloads.index(b"practicegen.grading.grade")


@pytest.mark.postgres
async def test_each_node_starts_only_the_pools_it_uses(
    postgres_database: str, tmp_path: Path
) -> None:
    """An API node whose jobs run elsewhere grades but never generates for a job; a worker
    generates but never grades."""
    cluster = Cluster(postgres_database, tmp_path, dict(NODE_SETTINGS))
    pools = {
        "PRACTICEGEN_POOLS_AT_START": "true",
        "PRACTICEGEN_GRADER_WORKERS": "3",
        "PRACTICEGEN_GENERATOR_WORKERS": "1",
    }
    try:
        worker = cluster.start_worker("worker", **pools)
        api = await cluster.start_api("api", **pools)  # ready: its pools started and warm
        api_pools = pool_members(api.pid)
        assert len(api_pools) == 1 + 3, api_pools
        assert sum(m.nice == GRADING_NICENESS for m in api_pools) == 3, api_pools
        await worker.wait_running()
        worker_pools = pool_members(worker.pid)
        assert len(worker_pools) == 1 + 1, worker_pools
        assert not any(m.nice == GRADING_NICENESS for m in worker_pools), worker_pools
    finally:
        cluster.close()
