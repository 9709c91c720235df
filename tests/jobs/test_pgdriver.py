"""pgqueuer's driver: queries not waiting behind its LISTEN, and both connections reopened."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg
import pytest
import structlog
from sqlalchemy.engine import make_url

from practicegen.db.migrator import postgres_conninfo
from practicegen.db.reconnect import Backoff
from practicegen.jobs.pgdriver import WORKER_APPLICATION_NAME, DriverStopped, ReconnectingDriver
from tests.support import postgres
from tests.support.processes import wait_until


def _driver(conninfo: str, changes: list[bool] | None = None) -> ReconnectingDriver:
    seen = changes if changes is not None else []
    return ReconnectingDriver(
        conninfo, Backoff(0.05, 0.2), connect_timeout_s=2, on_change=seen.append
    )


@pytest.mark.postgres
async def test_queries_run_at_once_while_the_driver_listens(postgres_database: str) -> None:
    """pgqueuer's one-connection driver holds the connection for up to a second per wait for
    a notification, so five quiet-time queries took seconds; here they take milliseconds."""
    heard: list[str] = []
    arrived = asyncio.Event()

    def hear(payload: str | bytes | bytearray) -> None:
        heard.append(str(payload))
        arrived.set()

    driver = _driver(postgres_conninfo(postgres_database))
    async with driver:
        await driver.add_listener("practicegen_test", hear)
        await asyncio.sleep(0.2)  # the listener is now waiting for a notification
        started = time.perf_counter()
        for n in range(5):
            assert await driver.fetch("SELECT $1::int AS n", n) == [{"n": n}]
        elapsed = time.perf_counter() - started
        await driver.notify("practicegen_test", "hello")
        await asyncio.wait_for(arrived.wait(), 5)
    await driver.aclose()
    assert elapsed < 1.0, f"five queries took {elapsed:.2f} s"
    assert heard == ["hello"]


async def _terminate_workers(admin: psycopg.AsyncConnection[Any], database: str) -> int:
    rows = await (
        await admin.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
            " WHERE datname = %s AND application_name = %s",
            (database, WORKER_APPLICATION_NAME),
        )
    ).fetchall()
    return len(rows)


@pytest.mark.postgres
async def test_both_connections_come_back_after_the_server_ends_them(
    postgres_database: str,
) -> None:
    """`pg_terminate_backend` on both connections (as a restart does): the next statement
    runs on a new connection, and a notification sent afterwards is heard again."""
    conninfo = postgres_conninfo(postgres_database)
    heard: list[str] = []
    changes: list[bool] = []
    driver = _driver(conninfo, changes)
    async with (
        await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as admin,
        driver,
    ):
        await driver.add_listener("practicegen_test", lambda payload: heard.append(str(payload)))
        assert await driver.fetch("SELECT 6 AS n") == [{"n": 6}]
        assert driver.connected
        assert await _terminate_workers(admin, _name(postgres_database)) == 2

        assert await driver.fetch("SELECT 7 AS n") == [{"n": 7}]  # sent again on a new one

        async def listening_again() -> bool:
            return driver.connected

        await wait_until(listening_again, limit_s=5, what="the LISTEN connection to reopen")
        await driver.notify("practicegen_test", "after")

        async def heard_it() -> bool:
            return bool(heard)

        await wait_until(heard_it, limit_s=5, what="the notification")
        while_running = list(changes)
    await driver.aclose()
    assert heard == ["after"]
    assert while_running[0] and not all(while_running) and while_running[-1], while_running


@pytest.mark.postgres
async def test_a_statement_waiting_for_the_database_fails_once_told_to_stop(
    postgres_database: str,
) -> None:
    """While the database refuses connections a statement waits (reconnecting with backoff);
    a stopping worker must not hang on it."""
    database = _name(postgres_database)
    driver = _driver(postgres_conninfo(postgres_database))
    assert await driver.fetch("SELECT 1 AS n") == [{"n": 1}]
    async with await psycopg.AsyncConnection.connect(
        postgres.admin_url(), autocommit=True
    ) as admin:
        await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false'.encode())
        try:
            assert await _terminate_workers(admin, database) == 1
            waiting = asyncio.create_task(driver.fetch("SELECT 2 AS n"))
            await asyncio.sleep(0.5)
            assert not waiting.done(), "the statement should wait for the database"
            assert not driver.connected
            driver.stop_waiting()
            with pytest.raises(DriverStopped):
                await asyncio.wait_for(waiting, 5)
        finally:
            await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true'.encode())
    await driver.aclose()


@pytest.mark.postgres
async def test_a_failing_listener_is_logged_and_leaving_ends_listening_at_once(
    postgres_database: str,
) -> None:
    """A listener that raises (whatever the payload) costs only its own call: later
    notifications still arrive. Leaving the driver just after one arrived ends its LISTEN at
    once, not at the next of a once-a-second look at a flag, and leaves no session behind."""
    conninfo = postgres_conninfo(postgres_database)
    heard: list[str] = []
    arrived = asyncio.Event()

    def hear(payload: str | bytes | bytearray) -> None:
        if str(payload) == "hostile":
            raise ValueError("a listener that fails")
        heard.append(str(payload))
        arrived.set()

    driver = _driver(conninfo)
    with structlog.testing.capture_logs() as logs:
        async with driver:
            await driver.add_listener("practicegen_test", hear)
            await driver.notify("practicegen_test", "hostile")
            await driver.notify("practicegen_test", "after")
            await asyncio.wait_for(arrived.wait(), 5)
            started = time.perf_counter()
        left_after = time.perf_counter() - started
    assert heard == ["after"]
    assert [e["event"] for e in logs if e["log_level"] == "error"] == ["queue.notification_failed"]
    assert left_after < 0.5, f"leaving took {left_after:.2f} s"
    listening = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND query ILIKE 'LISTEN%%'"
    )
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as admin:

        async def none_listening() -> bool:
            cursor = await admin.execute(listening, (_name(postgres_database),))
            return await cursor.fetchone() == (0,)

        await wait_until(none_listening, limit_s=5, what="the LISTEN session to end")
    await driver.aclose()


def _name(database_url: str) -> str:
    return str(make_url(database_url).database)
