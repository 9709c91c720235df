"""pgqueuer's psycopg driver, with its queries and its LISTEN on two connections.

pgqueuer's `PsycopgDriver` waits for notifications with `notifies(timeout=1.0)` on the same
connection its queries use, and psycopg holds that connection's lock while it waits: every
dequeue, status-log flush and heartbeat then waits for the next notification or the end of
that second. Measured at 20 jobs a second, a new job waited 60 ms (p90) and up to a second
before its dequeue ran. Two of pgqueuer's own drivers, one per connection, fix that without
copying its code: queries go to one, listening to the other.
"""

from __future__ import annotations

import asyncio
from typing import Any, Self

import psycopg
from pgqueuer.adapters.drivers.psycopg import PsycopgDriver
from pgqueuer.ports.driver import NotifyCallback, TaskManagerPort


class TwoConnectionDriver:
    """pgqueuer's `Driver` port: queries on `queries`, LISTEN on `listens` (both autocommit)."""

    def __init__(
        self, queries: psycopg.AsyncConnection[Any], listens: psycopg.AsyncConnection[Any]
    ) -> None:
        self._queries = PsycopgDriver(queries)
        self._listens = PsycopgDriver(listens)

    async def fetch(self, query: str, *args: object) -> list[dict[str, object]]:
        return await self._queries.fetch(query, *args)

    async def execute(self, query: str, *args: object) -> str:
        return await self._queries.execute(query, *args)

    async def notify(self, channel: str, payload: str) -> None:
        await self._queries.notify(channel, payload)

    async def add_listener(self, channel: str, callback: NotifyCallback) -> None:
        await self._listens.add_listener(channel, callback)

    async def remove_listener(self, channel: str, callback: NotifyCallback) -> None:
        await self._listens.remove_listener(channel, callback)

    @property
    def shutdown(self) -> asyncio.Event:
        return self._listens.shutdown

    @property
    def tm(self) -> TaskManagerPort:
        return self._listens.tm

    async def __aenter__(self) -> Self:
        await self._queries.__aenter__()
        await self._listens.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._listens.__aexit__(*exc)
        await self._queries.__aexit__(*exc)
