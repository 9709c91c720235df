"""Every connection of the database cut mid-load: the nodes reconnect, no job is lost.

A PostgreSQL restart or failover, or an administrator's `pg_terminate_backend`, ends every
connection of a node at once, and for a while no new one is accepted. Here that is done to the
test's own database (`ALLOW_CONNECTIONS false`, then every backend of it but the test's observer
terminated), for a few seconds, while real `practicegen` processes run jobs: `serve` with its
worker in process, and `serve` beside a `practicegen worker`. Nothing may exit; `/readyz` must
say 503 while the node cannot do its job and turn 200 again by itself; jobs created after that
are accepted at once, and every job, before or after the cut, completes and is written once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.api.test_practice import seed_bank
from tests.jobs.conftest import Db
from tests.jobs.test_processes import (
    NODE_SETTINGS,
    all_completed,
    assert_written_once,
    client,
    create_jobs,
    processing,
    queue_emptied,
)
from tests.support import postgres
from tests.support.processes import Cluster, Node, wait_until

CUT_S = 2.0
FAST_RECONNECT = {
    "PRACTICEGEN_DB_RECONNECT_INITIAL_S": "0.2",
    "PRACTICEGEN_DB_RECONNECT_MAX_S": "1",
    "PRACTICEGEN_LISTENER_GRACE_S": "0.5",
    "PRACTICEGEN_WORKER_SEEN_GRACE_S": "1",
    "PRACTICEGEN_DB_CONNECT_TIMEOUT_S": "2",
}


@pytest.fixture
async def cluster(postgres_database: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    nodes = Cluster(postgres_database, tmp_path, NODE_SETTINGS | FAST_RECONNECT)
    try:
        yield nodes
    finally:
        nodes.close()


async def readiness(http: httpx.AsyncClient) -> tuple[int, str | None]:
    """`/readyz`'s status and error code (None when ready)."""
    try:
        answer = await http.get("/readyz")
    except httpx.TransportError as exc:
        raise AssertionError(f"/readyz did not answer: {exc!r}") from exc
    return answer.status_code, None if answer.is_success else answer.json()["error"]["code"]


async def cut(database_url: str, observer: Db, http: httpx.AsyncClient, node: Node) -> list[str]:
    """Refuse new connections to the database and end all of it but `observer`'s, for `CUT_S`
    seconds; what `/readyz` answered meanwhile when it was not 200."""
    name = make_url(database_url).database
    codes: list[str] = []
    async with await psycopg.AsyncConnection.connect(postgres.admin_url(), autocommit=True) as a:
        await a.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'.encode())
        try:
            ended = await (
                await a.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = %s AND pid <> %s",
                    (name, observer.info.backend_pid),
                )
            ).fetchall()
            assert len(ended) >= 3, "the node's connections were cut"

            deadline = time.monotonic() + CUT_S
            while time.monotonic() < deadline:  # the outage, watched through /readyz
                status, code = await readiness(http)
                if status != 200:
                    codes.append(f"{status} {code}")
                await asyncio.sleep(0.1)
        finally:
            await a.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'.encode())
    assert node.running, node.describe()
    return codes


async def ready_again(http: httpx.AsyncClient, node: Node) -> None:
    async def ready() -> bool:
        return (await readiness(http))[0] == 200

    try:
        await wait_until(ready, limit_s=20, what="/readyz to say 200 again", every=0.1)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{node.describe()}") from None


async def cut_mid_load(
    cluster: Cluster, db: Db, api: Node, *workers: Node
) -> tuple[list[str], list[str]]:
    """Jobs running, the database cut, ready again, more jobs: their ids, and the codes."""
    async with client(api) as http:
        await seed_bank(http)

        async def some_running() -> bool:
            return bool(await processing(db))

        # watched from the first creation on: the jobs after the first few find the bank filled
        running = asyncio.create_task(
            wait_until(some_running, limit_s=20, what="jobs to be running", every=0.02)
        )
        before = await create_jobs(http, 8)
        await running
        codes = await cut(cluster.database_url, db, http, api)
        await ready_again(http, api)
        after = await create_jobs(http, 8)  # each accepted at the first try
    rows = await all_completed(db, len(before) + len(after), api, *workers)
    await assert_written_once(db, rows)
    await queue_emptied(db)
    for node in (api, *workers):
        assert node.running, node.describe()
    return before + after, codes


@pytest.mark.postgres
async def test_serve_with_its_worker_survives_a_database_cut(cluster: Cluster, db: Db) -> None:
    api = await cluster.start_api("api", PRACTICEGEN_RUN_WORKER="true")
    _, codes = await cut_mid_load(cluster, db, api)
    assert "503 worker_unavailable" in codes, codes
    assert api.events("worker.status"), "the worker said it was reconnecting"


@pytest.mark.postgres
async def test_serve_and_a_worker_process_survive_a_database_cut(cluster: Cluster, db: Db) -> None:
    worker = cluster.start_worker("worker")
    api = await cluster.start_api("api")
    _, codes = await cut_mid_load(cluster, db, api, worker)
    assert codes and all(code.startswith("503 ") for code in codes), codes
    # the node's own LISTEN connection, down past its grace (0.5 s here), is named first
    assert "503 listener_disconnected" in codes, codes
    assert worker.events("queue.connection_lost") or worker.events("queue.listen_lost")


@pytest.mark.postgres
async def test_readyz_on_postgres_says_503_while_no_worker_runs(cluster: Cluster) -> None:
    """An API node without a worker of its own is ready only while some worker is seen
    (after a grace from its first check or the last sighting); it follows workers coming and
    going."""
    seen = {"PRACTICEGEN_WORKER_HEARTBEAT_S": "0.5", "PRACTICEGEN_WORKER_STALE_S": "2"}
    cluster.settings |= seen
    # ready at first (start_api waits for a 200): the grace from /readyz's first check on
    api = await cluster.start_api("api", PRACTICEGEN_WORKER_SEEN_GRACE_S="1")
    async with client(api) as http:

        async def says(expected: tuple[int, str | None]) -> bool:
            return await readiness(http) == expected

        await wait_until(lambda: says((503, "no_worker")), limit_s=10, what="no_worker", every=0.1)
        worker = cluster.start_worker("worker")
        await wait_until(lambda: says((200, None)), limit_s=30, what="ready", every=0.1)
        worker.kill_everything()  # dead without a word: its row goes stale
        await wait_until(
            lambda: says((503, "no_worker")), limit_s=10, what="no_worker again", every=0.1
        )
        cluster.start_worker("another")
        await wait_until(lambda: says((200, None)), limit_s=30, what="ready again", every=0.1)
    assert api.running, api.describe()
