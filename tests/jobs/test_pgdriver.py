"""pgqueuer's queries must not wait behind its LISTEN: the two-connection driver."""

from __future__ import annotations

import asyncio
import time

import psycopg
import pytest

from practicegen.db.migrator import postgres_conninfo
from practicegen.jobs.pgdriver import TwoConnectionDriver


@pytest.mark.postgres
async def test_queries_run_at_once_while_the_driver_listens(postgres_database: str) -> None:
    """pgqueuer's one-connection driver holds the connection for up to a second per wait for
    a notification, so five quiet-time queries took seconds; here they take milliseconds."""
    conninfo = postgres_conninfo(postgres_database)
    heard: list[str] = []
    arrived = asyncio.Event()

    def hear(payload: str | bytes | bytearray) -> None:
        heard.append(str(payload))
        arrived.set()

    async with (
        await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as queries,
        await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as listens,
        TwoConnectionDriver(queries, listens) as driver,
    ):
        await driver.add_listener("practicegen_test", hear)
        await asyncio.sleep(0.2)  # the listener is now waiting for a notification
        started = time.perf_counter()
        for n in range(5):
            assert await driver.fetch("SELECT $1::int AS n", n) == [{"n": n}]
        elapsed = time.perf_counter() - started
        await driver.notify("practicegen_test", "hello")
        await asyncio.wait_for(arrived.wait(), 5)
    assert elapsed < 1.0, f"five queries took {elapsed:.2f} s"
    assert heard == ["hello"]
