"""A node's one LISTEN connection, feeding each channel's handler; it reconnects when dropped.

Notifications are hints that something changed (a job, an item bank); what they say is
always in the tables too. While the connection is down they are lost, so `on_connect` runs
after every (re)connection for whoever must catch up, and `connected` tells whether hints are
arriving at all.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping, Sequence

import psycopg
import structlog

log = structlog.get_logger()
Handler = Callable[[str], None]
_CHANNEL = re.compile(r"[a-z_][a-z0-9_]*")


class PostgresListener:
    def __init__(
        self,
        conninfo: str,
        handlers: Mapping[str, Handler],
        *,
        on_connect: Sequence[Callable[[], None]] = (),
        on_lost: Sequence[Callable[[], None]] = (),
        retry_s: float = 1.0,
    ) -> None:
        if not all(_CHANNEL.fullmatch(channel) for channel in handlers):
            raise ValueError(f"channel names must be plain identifiers: {list(handlers)}")
        self.conninfo = conninfo
        self.handlers = dict(handlers)
        self.on_connect = list(on_connect)
        self.on_lost = list(on_lost)
        self.retry_s = retry_s
        self.connected = asyncio.Event()

    async def run(self) -> None:
        listen = "; ".join(f"LISTEN {channel}" for channel in self.handlers)
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True
                ) as conn:
                    await conn.execute(listen)
                    self.connected.set()
                    for hook in self.on_connect:
                        hook()
                    async for note in conn.notifies():
                        self._deliver(note.channel, note.payload)
            except (psycopg.Error, OSError) as exc:
                if self.connected.is_set():
                    self.connected.clear()
                    for hook in self.on_lost:
                        hook()
                log.warning("db.listen_lost", error=str(exc))
                await asyncio.sleep(self.retry_s)

    def _deliver(self, channel: str, payload: str) -> None:
        handler = self.handlers.get(channel)
        if handler is None:
            return
        try:
            handler(payload)
        except Exception:  # one bad notification must not stop the node from listening
            log.exception("db.notification_failed", channel=channel, payload=payload[:100])
