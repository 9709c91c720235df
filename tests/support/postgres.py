"""Throwaway PostgreSQL databases for tests, cloned from one migrated template.

Migrating once and cloning (`CREATE DATABASE ... TEMPLATE`) gives every test a database of its
own; `Clones` hands one a test is done with, emptied, to the next. In CI (`CI=true`) an
unreachable server fails the run instead of skipping the PostgreSQL half of the suite.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import time
import uuid
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import psycopg
from sqlalchemy.engine import make_url

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def admin_url() -> str:
    return os.environ.get("PRACTICEGEN_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL)


def database_url(name: str) -> str:
    """SQLAlchemy URL of database `name` on the test server."""
    url = make_url(admin_url()).set(drivername="postgresql+psycopg", database=name)
    return url.render_as_string(hide_password=False)


def conninfo(name: str) -> str:
    url = make_url(admin_url()).set(drivername="postgresql", database=name)
    return url.render_as_string(hide_password=False)


def reachable() -> str | None:
    """None if the server answers, else why not."""
    try:
        with psycopg.connect(admin_url(), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip()


def create_database(template: str | None = None, prefix: str = "pgtest") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    clause = f" TEMPLATE {template}" if template else ""
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}{clause}".encode())
    return name


def drop_database(name: str) -> None:
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)".encode())


class Clones:
    """Per-test databases cloned from `template`. A database a test is done with is emptied on a
    thread of its own and handed to the next test: a clone and its drop cost the server a copy
    of every catalog and a checkpoint, emptying it a few milliseconds. A database whose test
    changed more than rows (its schema, its migrations ledger) or left connections open is
    dropped."""

    def __init__(self, template: str) -> None:
        self.template = template
        self._original = _fingerprint(template)
        self._reset = _Reset.of(template)
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="pg-clones")
        # two drops at once share the checkpoint each forces, and hold few of the server's
        # connections while they wait for it (more ran it out of connections)
        self._dropping = ThreadPoolExecutor(2, thread_name_prefix="pg-drop")
        self._emptied: deque[Future[str | None]] = deque()
        self._drops: list[Future[None]] = []

    def take(self) -> str:
        while self._emptied:
            name = self._emptied.popleft().result()
            if name is not None:
                return name
        return create_database(self.template)

    def give_back(self, name: str) -> None:
        self._emptied.append(self._worker.submit(self._emptied_or_dropped, name))

    def drop(self, name: str) -> None:
        self._drops.append(self._dropping.submit(drop_database, name))

    def close(self) -> None:
        """Drop every database, and wait for every drop; the first that failed raises."""
        while self._emptied:
            if (name := self._emptied.popleft().result()) is not None:
                self.drop(name)
        self._worker.shutdown(wait=True)
        self._dropping.shutdown(wait=True)
        for dropped in self._drops:
            dropped.result()

    def _emptied_or_dropped(self, name: str) -> str | None:
        try:
            with psycopg.connect(conninfo(name), autocommit=True) as conn:
                if _connected_elsewhere(conn) or _fingerprint_of(conn) != self._original:
                    raise _NotReusable
                self._reset.apply(conn)
            return name
        except (psycopg.Error, _NotReusable):
            self.drop(name)
            return None


class _NotReusable(Exception):
    pass


@dataclass(frozen=True)
class _Reset:
    """How a database handed on is made the template again, read once from the template (a
    database whose fingerprint differs is dropped, never reset): each table but the migrations
    ledger emptied and each sequence restarted, then the rows the template holds (what `prepare`
    wrote: the default tenant, the admin key) written back as COPY wrote them.

    DELETE, not TRUNCATE: a TRUNCATE makes every table and index a new file, 70-200 ms here; the
    replica role lets the rows go in any order (no foreign key checks, no triggers)."""

    emptying: bytes
    rows: dict[str, bytes]

    @classmethod
    def of(cls, template: str) -> _Reset:
        with psycopg.connect(conninfo(template), autocommit=True) as conn:
            used = conn.execute(_USED_SEQUENCES, prepare=False).fetchall()
            assert not used, f"the template used sequences {used}: restore their values too"
            tables = [t for (t,) in conn.execute(_TABLES, prepare=False)]
            sequences = [s for (s,) in conn.execute(_SEQUENCES, prepare=False)]
            rows = {table: _copied(conn, table) for table in tables}
        statements = [
            "SET LOCAL session_replication_role = replica",
            *(f"DELETE FROM {table}" for table in tables),
            *(f"ALTER SEQUENCE {sequence} RESTART" for sequence in sequences),
        ]
        return cls(";\n".join(statements).encode(), {t: r for t, r in rows.items() if r})

    def apply(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        with conn.transaction():
            conn.execute(self.emptying, prepare=False)
            for table, written in self.rows.items():
                with conn.cursor().copy(f"COPY {table} FROM STDIN".encode()) as copy:
                    copy.write(written)


def _copied(conn: psycopg.Connection[tuple[object, ...]], table: str) -> bytes:
    with conn.cursor().copy(f"COPY {table} TO STDOUT".encode()) as copy:
        return b"".join(bytes(chunk) for chunk in copy)


_TABLES = b"""
SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND tablename <> 'schema_migrations'
"""
_SEQUENCES = b"SELECT format('%I.%I', schemaname, sequencename) FROM pg_sequences"
_USED_SEQUENCES = b"SELECT sequencename FROM pg_sequences WHERE last_value IS NOT NULL"
_FINGERPRINT = b"""
WITH ours AS (
  SELECT oid FROM pg_namespace
  WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
)
SELECT md5(string_agg(line, E'\\n' ORDER BY line)) FROM (
  SELECT format('relation %s %s %s', c.oid::regclass, c.relkind, c.relpersistence) AS line
  FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM ours)
  UNION ALL
  SELECT format('column %s %s %s %s %s %s', a.attrelid::regclass, a.attname, a.atttypid,
                a.attnotnull, a.attisdropped, pg_get_expr(d.adbin, d.adrelid))
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  WHERE c.relnamespace IN (SELECT oid FROM ours) AND a.attnum > 0
  UNION ALL
  SELECT format('constraint %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
  FROM pg_constraint WHERE connamespace IN (SELECT oid FROM ours)
  UNION ALL
  SELECT format('trigger %s %s %s', tgrelid::regclass, tgname, tgenabled)
  FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL
  SELECT format('function %s %s', oid::regprocedure, md5(prosrc))
  FROM pg_proc WHERE pronamespace IN (SELECT oid FROM ours)
  UNION ALL
  SELECT format('migration %s', version) FROM schema_migrations
  UNION ALL
  SELECT format('setting %s', array_to_string(setconfig, ' ')) FROM pg_db_role_setting
  WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
  UNION ALL
  SELECT format('extension %s', extname) FROM pg_extension
) lines
"""


def _fingerprint(name: str) -> str:
    with psycopg.connect(conninfo(name), autocommit=True) as conn:
        return _fingerprint_of(conn)


def _fingerprint_of(conn: psycopg.Connection[tuple[object, ...]]) -> str:
    """A digest of everything in the database but its rows (and the migrations ledger's)."""
    row = conn.execute(_FINGERPRINT, prepare=False).fetchone()
    assert row is not None
    return str(row[0])


def _connected_elsewhere(conn: psycopg.Connection[tuple[object, ...]]) -> bool:
    """Whether connections of the test (or of a process it left running) are still open after
    half a second: a connection just closed takes a moment to leave `pg_stat_activity`.

    A connection of this very process that never ran a statement is a connect cancelled when the
    test's node stopped: psycopg leaves it open until the garbage collector finds it, and nothing
    can use it, so it is ended here rather than costing the database."""
    for _ in range(50):
        rows = conn.execute(_OTHERS, prepare=False).fetchall()
        if not rows:
            return False
        ours = _own_ports()
        for pid, port, query in rows:
            if port in ours and query == "":
                conn.execute(b"SELECT pg_terminate_backend(%s)", (pid,), prepare=False)
        time.sleep(0.01)
    return True


_OTHERS = b"""
SELECT pid, client_port, query FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
"""


def _own_ports() -> set[int]:
    """The local TCP ports of this process's sockets (a server's `client_port` for them)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if (target := os.readlink(f"/proc/self/fd/{fd}")).startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    ports = set()
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as sockets:
            for line in itertools.islice(sockets, 1, None):  # after the header
                fields = line.split()
                if fields[9] in inodes:
                    ports.add(int(fields[1].rpartition(":")[2], 16))
    return ports
