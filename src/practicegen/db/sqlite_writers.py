"""One writer at a time per process on SQLite, queued in turn instead of retrying in sleeps.

SQLite lets one connection write at a time. Another that tries waits in SQLite's busy handler,
which sleeps 1, 2, 5, 10 ms and longer between attempts, so under load a writer can lose to
several others in a row: that was the embedded mode's latency tail. Here a connection takes a
per-engine asyncio lock before its transaction's first write and gives it back when the
transaction ends, so this process's writers go first come, first served, and SQLite's own lock
is free when each asks for it. Other processes on the same file (the CLI) still meet the busy
handler. A writer that cannot get the lock within the busy timeout gets
`sqlalchemy.exc.TimeoutError`, which the API answers as 503 with Retry-After.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_

from practicegen.db.sqlite_driver import is_write

_HOLDS = "practicegen.holds_sqlite_writer_lock"


class WriterQueue:
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
