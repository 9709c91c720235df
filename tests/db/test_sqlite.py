"""On SQLite a process's concurrent writers all land, and one that fails or is cancelled leaves
the write lock to the others."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from practicegen.db.engine import create_engine, create_sessionmaker
from tests.conftest import make_settings


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
