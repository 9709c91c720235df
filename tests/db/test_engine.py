"""A pooled PostgreSQL connection the server ended is replaced before anyone uses it."""

from __future__ import annotations

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
