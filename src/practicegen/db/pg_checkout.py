"""Checking a pooled PostgreSQL connection at checkout without a round trip to the server.

SQLAlchemy's `pool_pre_ping` sends a statement on every checkout: one round trip per request or job
step, one statement in five to seven that a busy node sent. A connection sitting idle in the pool
is owed nothing by the server; whatever makes it unusable reaches its socket: a restarted or
stopped server, an administrator's `pg_terminate_backend`, an idle timeout all send an error
message and close, and a crashed server's sockets are closed by its kernel. So at checkout the
socket is polled, without waiting: readable (or the connection already marked bad) means dead, and
the pool replaces it before anyone uses it. What this cannot see is a peer that vanished without a
word (a network partition), which a ping would only notice by timing out too; the statement's own
error then invalidates the pool, as it would mid-request anyway. Anything unexpected on the socket,
such as a parameter the server reports after a reload, costs only a fresh connection.

Kept over `pool_pre_ping` because it recovers as the ping does: after a restart or a failover
every pooled connection is dead, each is found so at its checkout and replaced there (a cut
of every connection of a node's database, mid-load, costs no request once the database takes
connections again). The same look serves as psycopg_pool's `check` for the API's job-creation
pool (`check_psycopg`), which otherwise hands out a dead connection and lets its statement fail.
"""

from __future__ import annotations

import select
from typing import Any

import psycopg
from psycopg.pq import ConnStatus
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine

CHECKS_SOCKET = hasattr(select, "poll")
"""Where `select.poll` is missing (Windows) the engine keeps SQLAlchemy's pre-ping instead."""


def closed_by_server(dbapi_connection: Any) -> bool:
    """Whether the server has spoken on (or hung up) an idle connection: it is unusable."""
    return _closed(dbapi_connection.driver_connection.pgconn)


async def check_psycopg(connection: psycopg.AsyncConnection[Any]) -> None:
    """psycopg_pool's `check` (where `CHECKS_SOCKET`): raise for a connection the server ended,
    which the pool then replaces before handing one out."""
    if _closed(connection.pgconn):
        await connection.close()  # else the pool would keep it: its status still looks fine
        raise psycopg.OperationalError("the server closed this pooled connection")


def _closed(pgconn: Any) -> bool:
    if pgconn.status != ConnStatus.OK:
        return True
    poller = select.poll()
    poller.register(pgconn.socket, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    if closed_by_server(dbapi_connection):
        raise DisconnectionError("the server closed this pooled connection")


def install(engine: AsyncEngine) -> None:
    """Check each of `engine`'s connections at checkout (the pool retries with a new one)."""
    event.listen(engine.sync_engine, "checkout", _on_checkout)
