"""A database that stops answering gets a 503 that says to retry, never a 500 or a stack trace,
and the node answers normally again as soon as the database does (PostgreSQL: a database that
refuses connections and has dropped the node's, as during a restart or a failover)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import sql

from tests.api.test_errors import assert_error
from tests.api.test_jobs import admin_of
from tests.conftest import make_settings
from tests.support import postgres

pytestmark = pytest.mark.postgres


@contextmanager
def refusing_connections(database_url: str) -> Iterator[None]:
    """Database `database_url` accepts no connection and its open ones are ended, until the
    block ends."""
    name = database_url.rsplit("/", 1)[1]
    alter = sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}")
    with psycopg.connect(postgres.admin_url(), autocommit=True) as admin:
        admin.execute(alter.format(sql.Identifier(name), sql.SQL("false")))
        try:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            yield
        finally:
            admin.execute(alter.format(sql.Identifier(name), sql.SQL("true")))


async def test_a_database_that_refuses_connections_is_503_and_the_node_recovers(
    postgres_database: str,
) -> None:
    settings = make_settings(postgres_database, db_connect_timeout_s=2.0)
    async with admin_of(settings) as client:
        created = await client.post("/api/v1/students", json={"display_name": "Ada"})
        assert created.status_code == 201, created.text
        student_id = created.json()["data"]["student_id"]
        job = {"student_id": student_id, "subject": "Algebra", "num_items": 1}

        with refusing_connections(postgres_database):
            read = await client.get(f"/api/v1/students/{student_id}")
            assert_error(read, 503, "database_unavailable")
            assert read.headers["retry-after"] == "2"
            write = await client.post("/api/v1/practice/assign/async", json=job)
            assert write.status_code == 503 and "Traceback" not in write.text, write.text
            assert write.json()["error"]["code"] in ("database_unavailable", "service_busy")
            assert "retry-after" in write.headers

        assert (await client.get(f"/api/v1/students/{student_id}")).status_code == 200
        assert (await client.post("/api/v1/practice/assign/async", json=job)).status_code == 202
