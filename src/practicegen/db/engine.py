"""Builds the async engine and session factory: PostgreSQL with a bounded pool and timeouts,
SQLite with foreign keys, WAL, a busy timeout and a file only its owner reads (it holds secrets)."""

from __future__ import annotations

import os

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from practicegen.config import DatabaseKind, Settings
from practicegen.db import liveness, sqlite_driver

SessionMaker = async_sessionmaker[AsyncSession]
SQLITE_BUSY_TIMEOUT_S = 10.0
# as many as SQLAlchemy's default pool lets a burst open (5 kept, 10 more), all of them kept: an
# overflow connection closed on its return is a thread to start again, and trips to set it up
SQLITE_CONNECTIONS = 15


def create_engine(settings: Settings, *, pool_timeout_s: float | None = None) -> AsyncEngine:
    """`pool_timeout_s`: a checkout's wait, by default `PRACTICEGEN_DB_POOL_WAIT_S`."""
    pool_timeout_s = pool_timeout_s or settings.db_pool_wait_s
    if settings.database_kind is DatabaseKind.SQLITE:
        return _create_sqlite_engine(settings.database_url, pool_timeout_s)
    engine = create_async_engine(
        settings.database_url,
        # no overflow: a burst would start and end a server process per connection
        pool_size=settings.pool_connections,
        max_overflow=0,
        pool_timeout=pool_timeout_s,
        connect_args={
            "connect_timeout": max(1, int(settings.db_connect_timeout_s)),
            "options": "-c statement_timeout=30000",
        },
    )
    # a connection a restart or failover ended is replaced unseen, without a ping per checkout
    liveness.check_engine(engine.sync_engine, settings.db_ping_idle_s)
    return engine


def autocommit_sessionmaker(sessionmaker: SessionMaker) -> SessionMaker:
    """`sessionmaker` autocommitting each statement on PostgreSQL, for reads and lone writes."""
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


def _create_sqlite_engine(database_url: str, pool_timeout_s: float) -> AsyncEngine:
    url = make_url(database_url)
    make_sqlite_file_private(url.database or "")
    engine: AsyncEngine
    checkpoints = sqlite_driver.WalCheckpoints()  # the database's, shared by its connections
    in_a_file = url.database not in (None, "", ":memory:") and url.query.get("mode") != "memory"
    pooled = {"pool_size": SQLITE_CONNECTIONS, "max_overflow": 0} if in_a_file else {}
    engine = create_async_engine(
        database_url,
        async_creator=lambda: sqlite_driver.connect(
            engine, SQLITE_BUSY_TIMEOUT_S, checkpoints, _PRAGMAS
        ),
        pool_timeout=pool_timeout_s,
        **pooled,
    )
    return engine


_PRAGMAS = (
    "PRAGMA foreign_keys = ON",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}",
    "PRAGMA wal_autocheckpoint = 0",  # sqlite_driver.WalCheckpoints does it
)


def make_sqlite_file_private(path: str) -> None:
    """Create the database file at `path` with mode 0600, or narrow it (and its -wal and -shm)."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_CREAT | os.O_RDONLY, 0o600))
    except FileNotFoundError:  # no such folder: SQLite says so when the engine first connects
        return
    for name in (path, f"{path}-wal", f"{path}-shm"):
        if os.path.exists(name):
            os.chmod(name, 0o600)
