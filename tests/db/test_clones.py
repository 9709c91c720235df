"""The suite's reused PostgreSQL databases: a test finds its database as a fresh clone would be,
whatever the test before it left; one that changed more than rows, or left a connection open,
is dropped rather than handed on."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.support import postgres

pytestmark = pytest.mark.postgres


@pytest.fixture
def clones(postgres_template: str) -> Iterator[postgres.Clones]:
    made = postgres.Clones(postgres_template)
    yield made
    made.close()


def test_a_database_handed_on_has_no_rows_and_its_sequences_restarted(
    clones: postgres.Clones,
) -> None:
    name = clones.take()
    with psycopg.connect(postgres.conninfo(name), autocommit=True) as conn:
        conn.execute("INSERT INTO tenants (id, name) VALUES (gen_random_uuid(), 'left')")
        conn.execute(
            "INSERT INTO pgqueuer_log (job_id, status, entrypoint, priority)"
            " VALUES (1, 'queued', 'left', 0)"
        )
        migrations = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
    clones.give_back(name)
    assert clones.take() == name
    with psycopg.connect(postgres.conninfo(name), autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM tenants").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM pgqueuer_log").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone() == migrations
        restarted = "SELECT last_value, is_called FROM pgqueuer_log_id_seq"
        assert conn.execute(restarted).fetchone() == (1, False)
    clones.give_back(name)


@pytest.mark.parametrize(
    "change",
    [
        "ALTER TABLE jobs ADD COLUMN left_behind int",
        "CREATE INDEX left_behind ON jobs (created_at)",
        "ALTER TABLE jobs DISABLE TRIGGER USER",
        "DELETE FROM schema_migrations WHERE version = '001'",
        "CREATE FUNCTION left_behind() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    ],
    ids=["column", "index", "triggers", "ledger", "function"],
)
def test_a_database_whose_schema_changed_is_dropped(clones: postgres.Clones, change: str) -> None:
    name = clones.take()
    with psycopg.connect(postgres.conninfo(name), autocommit=True) as conn:
        conn.execute(change.encode())
    clones.give_back(name)
    assert clones.take() != name
    clones.close()  # waits for the drops
    assert not _exists(name)


def test_a_database_with_a_connection_left_open_is_dropped(clones: postgres.Clones) -> None:
    name = clones.take()
    with psycopg.connect(postgres.conninfo(name), autocommit=True):  # a process left running
        clones.give_back(name)
        assert clones.take() != name
    clones.close()  # its drop waited for the connection to go (WITH (FORCE) ends it)
    assert not _exists(name)


def _exists(name: str) -> bool:
    clones_done = "SELECT count(*) FROM pg_database WHERE datname = %s"
    with psycopg.connect(postgres.admin_url(), autocommit=True) as conn:
        row = conn.execute(clones_done, (name,)).fetchone()
    return row == (1,)
