"""A pooled PostgreSQL connection the server ended is replaced before anyone uses it, at the
cost of a round trip only for one that sat idle."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import text

from practicegen.bootstrap import prepare
from practicegen.db.engine import create_engine, create_sessionmaker
from practicegen.db.migrator import postgres_conninfo
from tests.conftest import make_settings


@pytest.mark.postgres
async def test_a_connection_the_server_ended_is_replaced_before_use(
    postgres_database: str,
) -> None:
    settings = make_settings(postgres_database, db_pool_size=1)
    await prepare(settings)
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)

    async def backend() -> int:
        async with sessionmaker() as session:
            return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())

    try:
        first = await backend()
        assert await backend() == first  # a live connection is kept, not replaced
        conninfo = postgres_conninfo(postgres_database)
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as admin:
            ended = await admin.execute("SELECT pg_terminate_backend(%s, 5000)", (first,))
            assert (await ended.fetchone()) == (True,)
        replaced = await backend()  # no error reaches the caller
        assert replaced != first
        assert await backend() == replaced
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_a_connection_is_pinged_only_once_it_has_sat_idle(
    postgres_database: str, tmp_path: Path
) -> None:
    """Handed back a moment ago, a connection goes out again without a round trip of its own;
    idle for `db_ping_idle_s`, it is pinged first (a peer gone silently shows nothing on the
    socket). What the client sends is read from libpq's own trace of the connection."""
    settings = make_settings(postgres_database, db_pool_size=1, db_ping_idle_s=0.5)
    await prepare(settings)
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)

    async def use() -> None:
        async with sessionmaker() as session:
            await session.execute(text("SELECT 'the session''s own statement'"))

    async def traced(name: str, pgconn: Any) -> list[str]:
        """The statements the client sent on `pgconn` (the pool's one connection) during one
        more use."""
        path = tmp_path / name
        with path.open("w") as trace:
            pgconn.trace(trace.fileno())
            try:
                await use()
            finally:
                pgconn.untrace()
        lines = [line.split("\t") for line in path.read_text().lower().splitlines()]
        return [line[-1].strip() for line in lines if line[1:4:2] == ["f", "query"]]

    try:
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            pgconn = raw.driver_connection.pgconn  # type: ignore[union-attr]
        busy = await traced("busy", pgconn)
        await asyncio.sleep(0.6)
        idle = await traced("idle", pgconn)
    finally:
        await engine.dispose()
    own = ['"begin"', "\"select 'the session''s own statement'\"", '"rollback"']
    assert busy == own
    assert len(idle) == 4 and idle[1:] == own  # a ping first
