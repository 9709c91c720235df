"""A burst of job creations larger than a node's connection pools: each creation waits its turn
for a connection and none is refused; past the node's pool wait, a 503 with Retry-After, and
never a dropped connection."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from tests.api.test_follower_burst import tiny_node
from tests.conftest import ADMIN_KEY

AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
BURST = 120


async def a_student(base: str) -> str:
    async with httpx.AsyncClient(base_url=base, headers=AUTH, timeout=60) as http:
        created = await http.post("/api/v1/students", json={"display_name": "Ada"})
    assert created.status_code == 201, created.text
    student_id: str = created.json()["data"]["student_id"]
    return student_id


async def burst_of_creations(base: str, student_id: str | None = None) -> list[httpx.Response]:
    """`BURST` async assigns sent at once on connections of their own, every third with an
    Idempotency-Key that an earlier one of the burst also sent (a client's retry)."""
    limits = httpx.Limits(max_connections=None)
    student_id = student_id or await a_student(base)
    async with httpx.AsyncClient(base_url=base, headers=AUTH, timeout=60, limits=limits) as http:
        body = {"student_id": student_id, "subject": "Algebra"}

        async def create(n: int) -> httpx.Response:
            headers = {"Idempotency-Key": f"burst-{n // 2}"} if n % 3 == 0 else {}
            job: dict[str, Any] = body | {"num_items": 1 + n % 3}
            if n % 3 == 0:
                job["num_items"] = 1  # the same body as its key's twin
            return await http.post("/api/v1/practice/assign/async", json=job, headers=headers)

        return list(await asyncio.gather(*(create(n) for n in range(BURST))))


async def test_a_burst_of_creations_larger_than_the_pools_is_all_accepted(
    database_url: str,
) -> None:
    async with tiny_node(database_url, job_max_in_flight=1000) as app:  # two connections a pool
        responses = await burst_of_creations(app.state["base_url"])
    assert [r.status_code for r in responses] == [202] * BURST, {r.text for r in responses}
    keyed = [r.json()["job_id"] for n, r in enumerate(responses) if n % 3 == 0]
    others = [r.json()["job_id"] for n, r in enumerate(responses) if n % 3 != 0]
    assert len(set(others)) == len(others)
    assert len(set(keyed)) == len({n // 2 for n in range(0, BURST, 3)})  # twins share a job
    replayed = [r for r in responses if r.headers.get("idempotent-replayed") == "true"]
    assert len(keyed) - len(set(keyed)) == len(replayed)


@contextlib.contextmanager
def another_writer(database_url: str) -> Iterator[Callable[[], None]]:
    """On SQLite, another process's writer holding the write lock until told to release it:
    only then does a creation hold its connection while it waits. Nothing on PostgreSQL."""
    path = make_url(database_url).database
    if not database_url.startswith("sqlite") or path is None:
        yield lambda: None
        return
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")

    def release() -> None:
        other.execute("ROLLBACK")

    try:
        yield release
    finally:
        other.close()


async def test_past_its_pool_wait_a_node_answers_503_with_retry_after(database_url: str) -> None:
    async with tiny_node(database_url, db_pool_wait_s=0.001, job_max_in_flight=1000) as app:
        student_id = await a_student(app.state["base_url"])
        with another_writer(database_url) as release:
            burst = asyncio.create_task(burst_of_creations(app.state["base_url"], student_id))
            await asyncio.sleep(0.5)
            release()
            responses = await burst
    statuses = {r.status_code for r in responses}
    assert statuses <= {202, 503} and 503 in statuses, statuses
    for refused in (r for r in responses if r.status_code == 503):
        assert refused.json()["error"]["code"] == "service_busy", refused.text
        assert refused.headers["retry-after"] == "1"
