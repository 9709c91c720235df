"""A node's one LISTEN connection, feeding each channel's handler; it reconnects when dropped,
and `on_connect` catches up on what was lost meanwhile."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import psycopg
import structlog

from practicegen.db.reconnect import Backoff

log = structlog.get_logger()
Handler = Callable[[str], None]
_CHANNEL = re.compile(r"[a-z_][a-z0-9_]*")
KEEPALIVES: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}
"""A server gone without a word (a partition) ends the connection in about 25 s, not never."""


class PostgresListener:
    def __init__(
        self,
        conninfo: str,
        handlers: Mapping[str, Handler],
        *,
        on_connect: Sequence[Callable[[], None]] = (),
        on_lost: Sequence[Callable[[], None]] = (),
        backoff: Backoff | None = None,
    ) -> None:
        if not all(_CHANNEL.fullmatch(channel) for channel in handlers):
            raise ValueError(f"channel names must be plain identifiers: {list(handlers)}")
        self.conninfo = conninfo
        self.handlers = dict(handlers)
        self.on_connect = list(on_connect)
        self.on_lost = list(on_lost)
        self.backoff = backoff or Backoff(0.5, 15.0)
        self.connected = asyncio.Event()
        self._down_since = time.monotonic()  # not yet connected counts as down

    def down_for(self) -> float:
        """Seconds since notifications stopped arriving (or `run` began); 0 while connected."""
        return 0.0 if self.connected.is_set() else time.monotonic() - self._down_since

    async def run(self) -> None:
        listen = "; ".join(f"LISTEN {channel}" for channel in self.handlers)
        self._down_since = time.monotonic()
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True, **KEEPALIVES
                ) as conn:
                    await conn.execute(listen)
                    self.connected.set()
                    self.backoff.reset()
                    log.info("db.listen_connected")
                    for hook in self.on_connect:
                        hook()
                    async for note in conn.notifies():
                        self._deliver(note.channel, note.payload)
            except Exception as exc:  # whatever ended it, the node must listen again
                self._lost()
                delay = self.backoff.next_delay()
                log.warning("db.listen_lost", error=str(exc), retry_in_s=round(delay, 2))
                await asyncio.sleep(delay)

    def _lost(self) -> None:
        if self.connected.is_set():
            self.connected.clear()
            self._down_since = time.monotonic()
            for hook in self.on_lost:
                hook()

    def _deliver(self, channel: str, payload: str) -> None:
        if (handler := self.handlers.get(channel)) is None:
            return
        try:
            handler(payload)
        except Exception:  # one bad notification must not stop the node from listening
            log.exception("db.notification_failed", channel=channel, payload=payload[:100])
