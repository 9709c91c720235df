"""Worker presence: a worker is seen while it runs, gone when it stops, stale when it is killed.

In process, on both backends: what one process's registration writes, how rows left by
workers killed outright are counted and, much later, forgotten, that a database refusing the
stamps never stops a worker, and that a database without the table is a pending migration to
`/readyz`. Across real processes on
PostgreSQL: an API node without a worker of its own warns at start and reports no worker in
`/readyz`, `/metrics` and `practicegen jobs list`; a `practicegen worker` started beside it
appears there, one stopped with SIGTERM leaves at once, and one killed with SIGKILL goes stale
after `PRACTICEGEN_WORKER_STALE_S`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog.testing
from sqlalchemy import delete, func, insert, select, text

from practicegen import __version__
from practicegen.db.engine import SessionMaker, create_engine, create_sessionmaker
from practicegen.db.models import UTCDateTime, Worker
from practicegen.jobs import presence
from practicegen.jobs.presence import Presence, Sighting
from tests.api.test_errors import assert_error
from tests.conftest import ADMIN_KEY, make_settings
from tests.jobs.conftest import Db
from tests.jobs.test_processes import NODE_SETTINGS
from tests.support.processes import Cluster, Node, wait_until
from tests.support.server import in_process_client, started_app

PRESENCE = {
    "PRACTICEGEN_WORKER_HEARTBEAT_S": "0.3",
    "PRACTICEGEN_WORKER_STALE_S": "1.5",
    "PRACTICEGEN_WORKER_SEEN_GRACE_S": "0.5",  # from the node's first /readyz on
}


async def rows(sessionmaker: SessionMaker) -> list[Worker]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(Worker))).all())


async def sighting(sessionmaker: SessionMaker, stale_s: float = 20.0) -> Sighting:
    async with sessionmaker() as session:
        return await presence.look(session, stale_s=stale_s)


async def database_now(sessionmaker: SessionMaker) -> datetime:
    async with sessionmaker() as session:
        now = await session.scalar(select(func.now(type_=UTCDateTime())))
    assert isinstance(now, datetime)
    return now


async def left_behind(sessionmaker: SessionMaker, *, seen_ago_s: float) -> uuid.UUID:
    """The row of a worker killed outright `seen_ago_s` ago, as it left it."""
    seen = await database_now(sessionmaker) - timedelta(seconds=seen_ago_s)
    killed = uuid.uuid4()
    async with sessionmaker() as session, session.begin():
        await session.execute(
            insert(Worker).values(
                id=killed,
                host="gone",
                pid=1,
                version="0",
                concurrency=1,
                lanes={},
                started_at=seen,
                last_seen=seen,
            )
        )
    return killed


def presence_of(sessionmaker: SessionMaker, *, forget_s: float = 3600) -> Presence:
    lanes = {"practicegen_job": 3, "practicegen_webhook": 7}
    return Presence(sessionmaker, concurrency=3, lanes=lanes, interval_s=0.1, forget_s=forget_s)


async def test_a_worker_is_seen_while_it_runs_and_leaves_no_row(
    sessionmaker: SessionMaker,
) -> None:
    worker = presence_of(sessionmaker)
    async with worker.registered():

        async def registered() -> list[Worker] | None:
            return await rows(sessionmaker) or None

        [row] = await wait_until(registered, limit_s=10, what="the worker's row")
        assert (row.id, row.host, row.pid, row.version) == (
            worker.id,
            socket.gethostname(),
            os.getpid(),
            __version__,
        )
        assert (row.concurrency, row.lanes) == (3, {"practicegen_job": 3, "practicegen_webhook": 7})
        first = row.last_seen

        async def stamped_again() -> bool:  # SQLite's clock counts whole seconds
            return (await rows(sessionmaker))[0].last_seen > first

        await wait_until(stamped_again, limit_s=10, what="a later stamp")
        seen = await sighting(sessionmaker)
        assert (seen.seen, seen.stale) == (1, 0)
        assert seen.last_seen_s is not None and seen.last_seen_s < 5
    assert await rows(sessionmaker) == []
    assert await sighting(sessionmaker) == Sighting(0, 0, None, 20.0)


async def test_a_killed_workers_row_goes_stale_then_is_forgotten(
    sessionmaker: SessionMaker,
) -> None:
    killed = await left_behind(sessionmaker, seen_ago_s=60)
    seen = await sighting(sessionmaker, stale_s=20)
    assert (seen.seen, seen.stale) == (0, 1)
    assert seen.last_seen_s is not None and 58 <= seen.last_seen_s <= 65
    assert (await sighting(sessionmaker, stale_s=120)).seen == 1  # stale is the setting's say

    async with presence_of(sessionmaker).registered():  # forgets after an hour: kept

        async def two() -> Sighting | None:
            now = await sighting(sessionmaker)
            return now if now.seen == 1 else None

        assert (await wait_until(two, limit_s=10, what="the new worker")).stale == 1
        assert killed in [row.id for row in await rows(sessionmaker)]
    worker = presence_of(sessionmaker, forget_s=30)
    async with worker.registered():  # the next worker to start forgets what is that old

        async def forgotten() -> bool:
            return [row.id for row in await rows(sessionmaker)] == [worker.id]

        await wait_until(forgotten, limit_s=10, what="the stale row to be forgotten")


async def test_a_row_deleted_under_a_running_worker_comes_back(
    sessionmaker: SessionMaker,
) -> None:
    worker = presence_of(sessionmaker)
    async with worker.registered():

        async def present() -> bool:
            return [row.id for row in await rows(sessionmaker)] == [worker.id]

        await wait_until(present, limit_s=10, what="the worker's row")
        async with sessionmaker() as session, session.begin():
            await session.execute(delete(Worker))
        await wait_until(present, limit_s=10, what="the worker's row again")


async def test_a_worker_whose_stamps_fail_keeps_running_and_says_why(tmp_path: Path) -> None:
    """A database that refuses every stamp (here: it has no `workers` table) costs the worker
    log lines, never its run: it stamps again at each interval, and its end still ends."""
    engine = create_engine(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'bare.db'}"))
    try:
        with structlog.testing.capture_logs() as logs:
            async with presence_of(create_sessionmaker(engine)).registered():

                async def failed_twice() -> bool:
                    return [e["event"] for e in logs].count("workers.stamp_failed") >= 2

                await wait_until(failed_twice, limit_s=10, what="two failed stamps")
        assert logs[-1]["event"] == "workers.deregister_failed"
    finally:
        await engine.dispose()


async def test_a_database_without_the_workers_table_is_a_pending_migration(
    database_url: str, sessionmaker: SessionMaker
) -> None:
    """A node of this build on a database one migration behind says so, not that the
    database is down."""
    async with sessionmaker() as session, session.begin():
        await session.execute(text("DROP TABLE workers"))
        await session.execute(text("DELETE FROM schema_migrations WHERE version = '012'"))
    behind = make_settings(database_url, auto_migrate=False)
    async with started_app(behind) as app, in_process_client(app) as http:
        error = assert_error(await http.get("/readyz"), 503, "migrations_pending")
    assert error["details"]["missing"] == ["012"]


async def test_readyz_tells_only_counts(anonymous: httpx.AsyncClient) -> None:
    """`/readyz` answers anyone: it says how many workers run, never where or which."""
    ready = await anonymous.get("/readyz")
    assert ready.status_code == 200, ready.text
    workers = ready.json()["data"]["workers"]
    assert set(workers) == {"seen", "stale", "last_seen_s", "stale_after_s"}


# Across processes, PostgreSQL


def jobs_list(node: Node) -> subprocess.CompletedProcess[str]:
    assert node.base_url is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRACTICEGEN_")}
    return subprocess.run(
        [sys.executable, "-m", "practicegen", "jobs", "list", "--url", node.base_url],
        env=env | {"PRACTICEGEN_API_KEY": ADMIN_KEY, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


async def readyz(http: httpx.AsyncClient) -> tuple[int, dict[str, Any]]:
    """`/readyz`'s status and what it says of the workers, from a 200 or a 503."""
    answer = await http.get("/readyz")
    body = answer.json()
    return answer.status_code, (body.get("data") or body["error"]["details"]).get("workers", {})


async def gauges(http: httpx.AsyncClient) -> tuple[float, float]:
    text = (await http.get("/metrics")).text
    values = dict(
        line.split(" ") for line in text.splitlines() if line.startswith("practicegen_workers_")
    )
    return float(values["practicegen_workers_seen"]), float(values["practicegen_workers_stale"])


async def says(http: httpx.AsyncClient, status: int, seen: int, stale: int) -> bool:
    code, workers = await readyz(http)
    return code == status and (workers.get("seen"), workers.get("stale")) == (seen, stale)


@pytest.mark.postgres
async def test_an_api_node_sees_workers_start_stop_and_die(
    postgres_database: str, tmp_path: Path, db: Db
) -> None:
    cluster = Cluster(postgres_database, tmp_path, NODE_SETTINGS | PRESENCE)
    try:
        api = await cluster.start_api("api")
        async with httpx.AsyncClient(base_url=api.base_url or "", timeout=10) as http:
            await node_without_workers(api, http)
            await worker_appears_and_leaves(cluster, api, http, db)
            await killed_worker_goes_stale(cluster, api, http)
    finally:
        cluster.close()


async def node_without_workers(api: Node, http: httpx.AsyncClient) -> None:
    async def warned() -> bool:
        return bool(api.events("workers.none_seen"))

    await wait_until(warned, limit_s=10, what="the warning at start")
    await wait_until(lambda: says(http, 503, 0, 0), limit_s=10, what="no_worker")
    assert (await http.get("/readyz")).json()["error"]["code"] == "no_worker"
    assert await gauges(http) == (0, 0)
    assert "No job worker seen within 1.5 s: jobs stay pending." in jobs_list(api).stderr


async def worker_appears_and_leaves(
    cluster: Cluster, api: Node, http: httpx.AsyncClient, db: Db
) -> None:
    worker = cluster.start_worker("worker")
    await wait_until(lambda: says(http, 200, 1, 0), limit_s=60, what="the worker", every=0.1)
    [row] = await (await db.execute("SELECT * FROM workers")).fetchall()
    assert (row["pid"], row["concurrency"]) == (worker.pid, 8)
    lanes = {"practicegen_job": 8, "practicegen_webhook": 100, "practicegen_batch": 200}
    assert row["lanes"] == lanes
    assert await gauges(http) == (1, 0)
    assert "Job workers: 1 running (seen within 1.5 s)." in jobs_list(api).stdout

    worker.send(signal.SIGTERM)
    assert await worker.wait_exit(30) == 0
    assert await (await db.execute("SELECT * FROM workers")).fetchall() == []
    gone = {"seen": 0, "stale": 0, "last_seen_s": None, "stale_after_s": 1.5}
    assert (await readyz(http))[1] == gone  # at once: nothing waits for it to go stale


async def killed_worker_goes_stale(cluster: Cluster, api: Node, http: httpx.AsyncClient) -> None:
    worker = cluster.start_worker("doomed")
    await wait_until(lambda: says(http, 200, 1, 0), limit_s=60, what="the worker", every=0.1)
    worker.kill_everything()  # no chance to deregister
    await wait_until(lambda: says(http, 503, 0, 1), limit_s=10, what="stale", every=0.1)
    assert await gauges(http) == (0, 1)
    listed = jobs_list(api).stderr
    assert "No job worker seen within 1.5 s; the last was seen" in listed, listed
