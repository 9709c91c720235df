"""A fresh `practicegen serve` starts its grading and generator processes by itself, while it
already answers, so the first answer a student sends is not the one that waits for them; and
they end with it, even when it is killed outright. A node that starts them at first use and
cannot answers that request with a 503 to retry, not a hang or a 500."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from multiprocessing.context import BaseContext
from pathlib import Path

import httpx
import pytest

from practicegen.grading import grader, sympy_pool
from tests.api.factories import item_body
from tests.api.test_errors import assert_error
from tests.api.test_practice import assign, new_student, seed_bank
from tests.guide.serve import Serve, practicegen_serve
from tests.support.processes import wait_until


def pool_processes(group: int) -> int:
    """Processes of process group `group` that the fork server started (or it itself)."""
    count = 0
    for proc in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[2]) == group and b"forkserver" in (proc / "cmdline").read_bytes():
                count += 1
    return count


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
