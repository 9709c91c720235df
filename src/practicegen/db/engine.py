"""Builds the async engine and session factory for the configured database.

SQLite (the embedded default) gets the pragmas that make it a safe server database: foreign
keys on, WAL so readers never wait for the writer, and a busy timeout instead of instant
"database is locked" errors; this process's writers take turns (`sqlite_writers.py`), and each
statement takes one trip to its connection's thread (`sqlite_driver.py`).
PostgreSQL gets a bounded pool with connect and statement timeouts, whose connections are
pinged at checkout (`pool_pre_ping`), so those a restart or a failover ended are replaced.
The SQLite file holds signing secrets and key hashes, so it is made readable by its owner only.
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from practicegen.config import DatabaseKind, Settings
from practicegen.db import sqlite_driver
from practicegen.db.sqlite_writers import WriterQueue

SessionMaker = async_sessionmaker[AsyncSession]
_SQLITE_BUSY_TIMEOUT_S = 10.0


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute(f"PRAGMA busy_timeout = {int(_SQLITE_BUSY_TIMEOUT_S * 1000)}")
    cursor.execute("PRAGMA wal_autocheckpoint = 0")  # sqlite_driver.WalCheckpoints does it
    cursor.close()


def make_sqlite_file_private(path: str) -> None:
    """Create the database file at `path` with mode 0600, or narrow an existing one (and its
    -wal and -shm) to it. SQLite gives the -wal and -shm files it creates later the database
    file's mode. In-memory and URI databases are left alone."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_CREAT | os.O_RDONLY, 0o600))
    except FileNotFoundError:  # no such folder: SQLite says so when the engine first connects
        return
    for name in (path, f"{path}-wal", f"{path}-shm"):
        if os.path.exists(name):
            os.chmod(name, 0o600)


def create_engine(settings: Settings, *, pool_timeout_s: float | None = None) -> AsyncEngine:
    """`pool_timeout_s`: how long a checkout may wait for a pooled connection (PostgreSQL);
    by default `PRACTICEGEN_DB_CONNECT_TIMEOUT_S`, after which an API request answers 503. A
    worker, whose jobs have no client waiting on that answer, passes a longer one."""
    if settings.database_kind is DatabaseKind.SQLITE:
        make_sqlite_file_private(make_url(settings.database_url).database or "")
        engine: AsyncEngine
        checkpoints = sqlite_driver.WalCheckpoints()
        engine = create_async_engine(
            settings.database_url,
            async_creator=lambda: sqlite_driver.connect(
                engine, _SQLITE_BUSY_TIMEOUT_S, checkpoints
            ),
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        WriterQueue(timeout_s=_SQLITE_BUSY_TIMEOUT_S).install(engine)
        return engine
    engine = create_async_engine(
        settings.database_url,
        # Every connection is kept once opened. With half of them as overflow, which the pool
        # closes when handed back, a burst of 1,000 jobs opened 320 connections, each a new
        # server process for PostgreSQL to start and tear down at the busiest moment.
        pool_size=settings.pool_connections,
        max_overflow=0,
        pool_pre_ping=True,  # a connection a restart or failover ended is replaced unseen
        pool_timeout=pool_timeout_s or settings.db_connect_timeout_s,
        connect_args={
            "connect_timeout": max(1, int(settings.db_connect_timeout_s)),
            "options": "-c statement_timeout=30000",
        },
    )
    return engine


def autocommit_sessionmaker(sessionmaker: SessionMaker) -> SessionMaker:
    """`sessionmaker`, whose sessions let each statement commit by itself on PostgreSQL; the
    composition root builds it for sessions that only read, or whose statements are each
    complete (fenced claims and heartbeats).

    A reading session so spares the BEGIN, the ROLLBACK on close and the DEALLOCATE ALL psycopg
    sends after a rollback (which also empties its prepared statements), each statement still
    seeing what a READ COMMITTED transaction would; a fenced write releases its row locks at
    once. A write through one commits at once. On SQLite `sessionmaker` itself: its driver
    starts no transaction for reads, and it has one writer anyway.
    """
    engine = sessionmaker.kw.get("bind")
    if not isinstance(engine, AsyncEngine) or engine.dialect.name != "postgresql":
        return sessionmaker
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    return async_sessionmaker(**{**sessionmaker.kw, "bind": autocommit})


def create_sessionmaker(
    engine: AsyncEngine, *, info: dict[str, object] | None = None
) -> SessionMaker:
    """`info` seeds every session's `info` (the jobs system hangs its change hub there)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False, info=info)
