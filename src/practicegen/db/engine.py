"""Builds the async engine and session factory for the configured database.

SQLite, the embedded default, is built by `db/sqlite.py`; PostgreSQL gets a bounded pool with
connect and statement timeouts.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from practicegen.config import DatabaseKind, Settings
from practicegen.db.sqlite import create_sqlite_engine

SessionMaker = async_sessionmaker[AsyncSession]


def create_engine(settings: Settings, *, pool_timeout_s: float | None = None) -> AsyncEngine:
    """`pool_timeout_s`: how long a checkout may wait for a pooled connection (PostgreSQL);
    by default `PRACTICEGEN_DB_CONNECT_TIMEOUT_S`, after which an API request answers 503. A
    worker, whose jobs have no client waiting on that answer, passes a longer one."""
    if settings.database_kind is DatabaseKind.SQLITE:
        return create_sqlite_engine(settings.database_url)
    return create_async_engine(
        settings.database_url,
        # Every connection is kept once opened: overflow, closed when handed back, would make
        # a burst of jobs start and end a server process per connection at the busiest moment.
        pool_size=settings.pool_connections,
        max_overflow=0,
        pool_pre_ping=True,  # a connection a restart or failover ended is replaced unseen
        pool_timeout=pool_timeout_s or settings.db_connect_timeout_s,
        connect_args={
            "connect_timeout": max(1, int(settings.db_connect_timeout_s)),
            "options": "-c statement_timeout=30000",
        },
    )


def autocommit_sessionmaker(sessionmaker: SessionMaker) -> SessionMaker:
    """`sessionmaker`, whose sessions let each statement commit by itself on PostgreSQL: for
    sessions that only read, or whose statements are each complete (fenced claims, heartbeats).

    A reading session so spares the BEGIN, the ROLLBACK on close and the DEALLOCATE ALL psycopg
    sends after a rollback, each statement still seeing what READ COMMITTED would. On SQLite
    `sessionmaker` itself: its driver starts no transaction for reads.
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
