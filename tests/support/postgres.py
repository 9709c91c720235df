"""Throwaway PostgreSQL databases for tests, cloned from one migrated template.

Migrating once and cloning (`CREATE DATABASE ... TEMPLATE`) gives every test its own database;
`Clones` makes the next one while a test runs and drops used ones on a thread of its own. In CI
(`CI=true`) an unreachable server fails the run instead of skipping the PostgreSQL half of the
suite.
"""

from __future__ import annotations

import os
import uuid
from concurrent.futures import Future, ThreadPoolExecutor

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
    """Databases cloned from `template` one ahead of need and dropped after use, on threads of
    their own: a test waits for neither the copy nor the checkpoint a drop forces."""

    def __init__(self, template: str) -> None:
        self.template = template
        self._creating = ThreadPoolExecutor(1, thread_name_prefix="pg-clone")
        # two drops at once share the checkpoint each forces, and hold few of the server's
        # connections while they wait for it (more ran it out of connections)
        self._dropping = ThreadPoolExecutor(2, thread_name_prefix="pg-drop")
        self._drops: list[Future[None]] = []
        self._next = self._creating.submit(create_database, template)

    def take(self) -> str:
        name = self._next.result()
        self._next = self._creating.submit(create_database, self.template)
        return name

    def drop(self, name: str) -> None:
        self._drops.append(self._dropping.submit(drop_database, name))

    def close(self) -> None:
        """Drop what is left, and wait for every drop; the first that failed raises."""
        self._creating.shutdown(wait=True)
        self.drop(self._next.result())
        self._dropping.shutdown(wait=True)
        for dropped in self._drops:
            dropped.result()
