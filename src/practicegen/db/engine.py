"""Builds the async engine and session factory for the configured database.

SQLite (the embedded default) gets the pragmas that make it a safe server database: foreign
keys on, WAL so readers never wait for the writer, and a busy timeout instead of instant
"database is locked" errors. PostgreSQL gets a bounded pool with connect and statement timeouts.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from practicegen.config import DatabaseKind, Settings

SessionMaker = async_sessionmaker[AsyncSession]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.close()


def create_engine(settings: Settings) -> AsyncEngine:
    if settings.database_kind is DatabaseKind.SQLITE:
        engine = create_async_engine(settings.database_url, connect_args={"timeout": 10})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_pre_ping=True,
        pool_timeout=settings.db_connect_timeout_s,
        connect_args={
            "connect_timeout": max(1, int(settings.db_connect_timeout_s)),
            "options": "-c statement_timeout=30000",
        },
    )


def create_sessionmaker(
    engine: AsyncEngine, *, info: dict[str, object] | None = None
) -> SessionMaker:
    """`info` seeds every session's `info` (the jobs system hangs its change hub there)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False, info=info)
