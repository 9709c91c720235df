"""The SQLite engine: the embedded default, made a safe server database.

Each connection gets foreign keys on, WAL so readers never wait for the writer, and a busy
timeout instead of instant "database is locked" errors. The file holds signing secrets and key
hashes, so it is made readable by its owner only. Its connections take one trip to their
thread per statement (`sqlite_driver.py`).

One writer at a time per process, queued in turn (`WriterQueue`), because SQLite's busy handler
sleeps ever longer between attempts and so lets a writer lose to several others in a row.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import await_

from practicegen.db import sqlite_driver
from practicegen.db.sqlite_driver import is_write

BUSY_TIMEOUT_S = 10.0
_HOLDS = "practicegen.holds_sqlite_writer_lock"


def create_sqlite_engine(database_url: str) -> AsyncEngine:
    make_sqlite_file_private(make_url(database_url).database or "")
    engine: AsyncEngine
    checkpoints = sqlite_driver.WalCheckpoints()  # the database's, shared by its connections
    engine = create_async_engine(
        database_url,
        async_creator=lambda: sqlite_driver.connect(engine, BUSY_TIMEOUT_S, checkpoints),
    )
    event.listen(engine.sync_engine, "connect", _pragmas)
    WriterQueue(timeout_s=BUSY_TIMEOUT_S).install(engine)
    return engine


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
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


class WriterQueue:
    """A per-engine asyncio lock, taken before a transaction's first write and given back when
    it ends, so this process's writers go first come, first served and find SQLite's own lock
    free. Other processes on the file (the CLI) still meet the busy handler. A writer without a
    turn within `timeout_s` gets `sqlalchemy.exc.TimeoutError` (the API's 503, Retry-After)."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._lock = asyncio.Lock()

    def install(self, engine: AsyncEngine) -> None:
        sync_engine = engine.sync_engine
        event.listen(sync_engine, "before_cursor_execute", self._before_execute)
        event.listen(sync_engine, "commit", self._transaction_ended)
        event.listen(sync_engine, "rollback", self._transaction_ended)
        # a connection handed back mid-transaction (a cancelled task) is reset by the pool
        event.listen(sync_engine.pool, "reset", self._reset)
        event.listen(sync_engine.pool, "invalidate", self._invalidated)

    def _before_execute(
        self,
        connection: Connection,
        _cursor: Any,
        statement: str,
        _parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> None:
        if connection.info.get(_HOLDS) or not is_write(statement):
            return
        if not self._lock.locked():
            await_(self._lock.acquire())  # free: taken without yielding to the event loop
        else:
            try:
                await_(asyncio.wait_for(self._lock.acquire(), self.timeout_s))
            except TimeoutError as exc:
                raise PoolTimeout(f"no turn to write within {self.timeout_s} s") from exc
        connection.info[_HOLDS] = True

    def _transaction_ended(self, connection: Connection) -> None:
        if connection.invalidated:
            return  # its info is out of reach now; the pool's invalidate event releases
        self._release(connection.info)

    def _reset(self, dbapi_connection: Any, connection_record: Any, reset_state: Any) -> None:
        self._release(connection_record.info)

    def _invalidated(self, dbapi_connection: Any, connection_record: Any, exception: Any) -> None:
        self._release(connection_record.info)

    def _release(self, info: dict[Any, Any]) -> None:
        if info.pop(_HOLDS, False):
            self._lock.release()
