"""On SQLite a process's concurrent writers all land, and one that fails or is cancelled leaves
the write lock to the others; a connection closes only after the WAL checkpoint it scheduled."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from practicegen.bootstrap import prepare
from practicegen.db import sqlite_driver
from practicegen.db.engine import create_engine, create_sessionmaker
from tests.api.test_practice import new_student
from tests.conftest import ADMIN_KEY, make_settings
from tests.support.server import in_process_client, started_app


async def _engine(tmp_path: Path) -> AsyncEngine:
    engine = create_engine(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"))
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        await conn.execute(text("INSERT INTO counter VALUES (0)"))
    return engine


async def test_concurrent_writers_all_land(tmp_path: Path) -> None:
    engine = await _engine(tmp_path)
    sessionmaker = create_sessionmaker(engine)

    async def increment() -> None:
        async with sessionmaker() as session, session.begin():
            await session.execute(text("UPDATE counter SET n = n + 1"))
            await asyncio.sleep(0.005)  # hold the write across an await, as requests do

    try:
        await asyncio.gather(*(increment() for _ in range(50)))
        async with sessionmaker() as session:
            assert (await session.execute(text("SELECT n FROM counter"))).scalar_one() == 50
    finally:
        await engine.dispose()


async def test_a_rolled_back_or_cancelled_writer_leaves_the_lock_to_others(tmp_path: Path) -> None:
    engine = await _engine(tmp_path)
    sessionmaker = create_sessionmaker(engine)
    holding = asyncio.Event()

    async def write_then_fail() -> None:
        async with sessionmaker() as session, session.begin():
            await session.execute(text("UPDATE counter SET n = n + 100"))
            raise RuntimeError("the request failed")

    async def write_then_hang() -> None:
        async with sessionmaker() as session, session.begin():
            await session.execute(text("UPDATE counter SET n = n + 1000"))
            holding.set()
            await asyncio.sleep(3600)

    try:
        with pytest.raises(RuntimeError):
            await write_then_fail()
        hanging = asyncio.create_task(write_then_hang())
        await holding.wait()
        hanging.cancel()
        await asyncio.gather(hanging, return_exceptions=True)
        async with asyncio.timeout(5), sessionmaker() as session, session.begin():
            await session.execute(text("UPDATE counter SET n = n + 1"))
        async with sessionmaker() as session:
            assert (await session.execute(text("SELECT n FROM counter"))).scalar_one() == 1
    finally:
        await engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_an_embedded_node_closes_no_connection_before_its_checkpoint(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a checkpoint after every commit; concurrent writers open connections past the pool's size,
    # each closed as it comes back just after its commit, as all are when the node stops
    monkeypatch.setattr(sqlite_driver, "CHECKPOINT_EVERY_CHANGES", 1)
    settings = make_settings(database_url, run_worker=True)
    await prepare(settings)
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with structlog.testing.capture_logs() as logs:
        async with (
            started_app(settings) as app,
            in_process_client(app, headers=headers, timeout=30) as http,
        ):
            for _ in range(3):
                await asyncio.gather(*(new_student(http) for _ in range(20)))
    assert "sqlite.checkpoint_failed" not in [e["event"] for e in logs]
