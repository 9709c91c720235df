"""Waking pgqueuer's workers after job creations commit, one NOTIFY for all that asked meanwhile:
pgqueuer's own in each transaction would queue every commit behind one notification lock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, LiteralString

import psycopg
import structlog
from pgqueuer.domain.settings import db_settings

from practicegen.db.liveness import ended_by_server
from practicegen.jobs.pgdriver import said

log = structlog.get_logger()
SETTING = "practicegen.queue_wakeup"
"""Set to `after_commit` in a transaction whose queue writes are woken for here, not by NOTIFY."""

# pgqueuer's own payload, as its trigger builds it; the commit needs no flush to disk
_NOTIFY: LiteralString = """
SELECT set_config('synchronous_commit', 'off', true), pg_notify(%(channel)s, json_build_object(
    'channel', %(channel)s::text, 'operation', 'insert', 'sent_at', now(),
    'table', %(table)s::text, 'type', 'table_changed_event')::text)
"""

Connect = Callable[[], Awaitable[psycopg.AsyncConnection[Any]]]


class QueueWakeup:
    def __init__(self, connect: Connect) -> None:
        """`connect`: opens the autocommit connection of their own wake-ups are sent on."""
        self._connect = connect
        self._connection: psycopg.AsyncConnection[Any] | None = None
        self._owed = False
        self._sending: asyncio.Task[None] | None = None
        settings = db_settings()
        self._params = {"channel": settings.channel, "table": settings.queue_table}

    def after_commit(self) -> None:
        """Wake the workers soon: a job committed since the last wake-up was sent."""
        self._owed = True
        if self._sending is None:
            self._sending = asyncio.get_running_loop().create_task(self._send_owed())

    async def _send_owed(self) -> None:
        try:
            while self._owed:
                self._owed = False
                try:
                    await self._send()
                except (psycopg.Error, OSError) as exc:  # the workers' polling finds the job
                    log.warning("queue.wakeup_failed", error=said(exc))
                    await self._drop()
        finally:
            self._sending = None

    async def _send(self) -> None:
        if self._connection is not None and ended_by_server(self._connection.pgconn):
            await self._drop()
        if self._connection is None:
            self._connection = await self._connect()
        await self._connection.execute(_NOTIFY, self._params)

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()

    async def close(self) -> None:
        """Send what is owed, then close the connection."""
        if self._sending is not None:
            await self._sending
        await self._drop()
