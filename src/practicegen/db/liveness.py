"""Whether a pooled PostgreSQL connection may be handed out, without a round trip per checkout:
a server that ends a connection leaves its idle socket readable, which a `poll` sees; one idle
for `idle_s` or more (a peer may have vanished without a word) is pinged too."""

from __future__ import annotations

import select
import time
import weakref
from typing import Any

import psycopg
from psycopg.pq import ConnStatus
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

_LAST_USED = "liveness.last_used"  # a pool record's monotonic time of its last checkin


def ended_by_server(pgconn: Any) -> bool:
    """Whether the server has ended (or spoken unasked on) an idle connection: it is unusable."""
    if pgconn.status != ConnStatus.OK:
        return True
    poller = select.poll()
    poller.register(pgconn.socket, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def check_engine(engine: Engine, idle_s: float) -> None:
    """Check each of `engine`'s connections at checkout, where the pool replaces one that fails."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if ended_by_server(dbapi_connection.driver_connection.pgconn):
            raise DisconnectionError("the server closed this pooled connection")
        last_used = record.info.get(_LAST_USED)
        if last_used is None or time.monotonic() - last_used < idle_s:
            return  # new, or in use moments ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("a pooled connection idle for a while did not answer") from exc


class PsycopgChecks:
    """psycopg_pool's `check` and `reset` callbacks for the same look at its connections."""

    def __init__(self, idle_s: float) -> None:
        self.idle_s = idle_s
        self._last_used: weakref.WeakKeyDictionary[psycopg.AsyncConnection[Any], float] = (
            weakref.WeakKeyDictionary()
        )

    async def check(self, connection: psycopg.AsyncConnection[Any]) -> None:
        """Raise for a connection that is gone (the pool then hands out another)."""
        if ended_by_server(connection.pgconn):
            await connection.close()  # else the pool would keep it: its status still looks fine
            raise psycopg.OperationalError("the server closed this pooled connection")
        last_used = self._last_used.get(connection)
        if last_used is not None and time.monotonic() - last_used >= self.idle_s:
            await AsyncConnectionPool.check_connection(connection)

    async def reset(self, connection: psycopg.AsyncConnection[Any]) -> None:
        """Note when `connection` came back to the pool."""
        self._last_used[connection] = time.monotonic()
