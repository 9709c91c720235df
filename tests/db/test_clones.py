"""The suite's reused PostgreSQL databases: a test finds its database as a fresh clone would be,
whatever the test before it left; one that changed more than rows, or that another process (or
this one, with a connection it used) still holds, is dropped rather than handed on."""

from __future__ import annotations

import subprocess
import sys
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


def test_a_database_handed_on_holds_the_templates_rows_alone_its_sequences_restarted(
    clones: postgres.Clones,
) -> None:
    name = clones.take()
    with psycopg.connect(postgres.conninfo(name), autocommit=True) as conn:
        tenants = conn.execute("SELECT * FROM tenants ORDER BY id").fetchall()
        keys = conn.execute("SELECT * FROM api_keys ORDER BY id").fetchall()
        assert tenants and keys, "the template is prepared: a tenant and its admin key"
        conn.execute("INSERT INTO tenants (id, name) VALUES (gen_random_uuid(), 'left')")
        conn.execute("UPDATE api_keys SET name = 'changed'")
        conn.execute(
            "INSERT INTO pgqueuer_log (job_id, status, entrypoint, priority)"
            " VALUES (1, 'queued', 'left', 0)"
        )
        migrations = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
    clones.give_back(name)
    assert clones.take() == name
    with psycopg.connect(postgres.conninfo(name), autocommit=True) as conn:
        assert conn.execute("SELECT * FROM tenants ORDER BY id").fetchall() == tenants
        assert conn.execute("SELECT * FROM api_keys ORDER BY id").fetchall() == keys
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


def test_a_database_another_process_holds_is_dropped(clones: postgres.Clones) -> None:
    name = clones.take()
    holder = subprocess.Popen(  # a process a test left running, connected without a statement
        [sys.executable, "-c", HOLD, postgres.conninfo(name)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "connected\n"
        clones.give_back(name)
        assert clones.take() != name
    finally:
        holder.kill()
        holder.wait()
    clones.close()  # its drop ended the connection (WITH (FORCE))
    assert not _exists(name)


HOLD = """
import sys, time, psycopg
conn = psycopg.connect(sys.argv[1])
print("connected", flush=True)
time.sleep(60)
"""


def test_a_connection_this_process_left_unused_is_ended_and_the_database_reused(
    clones: postgres.Clones,
) -> None:
    """What a connect cancelled as a node stops leaves until the garbage collector finds it."""
    name = clones.take()
    left = psycopg.connect(postgres.conninfo(name), autocommit=True)
    clones.give_back(name)
    assert clones.take() == name
    with pytest.raises(psycopg.OperationalError):
        left.execute("SELECT 1")
    left.close()
    clones.give_back(name)


def test_a_connection_of_this_process_that_ran_a_statement_is_left_alone(
    clones: postgres.Clones,
) -> None:
    name = clones.take()
    with psycopg.connect(postgres.conninfo(name), autocommit=True) as used:
        used.execute("SELECT 1")
        clones.give_back(name)
        assert clones.take() != name
    clones.close()
    assert not _exists(name)


def _exists(name: str) -> bool:
    clones_done = "SELECT count(*) FROM pg_database WHERE datname = %s"
    with psycopg.connect(postgres.admin_url(), autocommit=True) as conn:
        row = conn.execute(clones_done, (name,)).fetchone()
    return row == (1,)
