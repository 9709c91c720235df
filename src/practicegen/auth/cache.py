"""A node's short memory of the keys and tokens it has checked: a key is trusted for
`PRACTICEGEN_AUTH_CACHE_S` seconds (so one revoked elsewhere is refused within that time), a
token never past its expiry; a burst with one key not yet trusted checks it once."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from practicegen.auth.principal import Principal


@dataclass(frozen=True, slots=True)
class _Entry:
    principal: Principal
    trusted_until: float  # on the cache's monotonic clock
    expires_at: datetime | None  # the key's own expiry, on the wall clock


class KeyCache:
    def __init__(
        self,
        ttl_s: float,
        *,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[str, _Entry] = {}
        self._checking: dict[str, asyncio.Future[Principal]] = {}

    def get(self, key_hash: str, now: datetime) -> Principal | None:
        if (entry := self._entries.get(key_hash)) is None:
            return None
        if self.clock() >= entry.trusted_until or (
            entry.expires_at is not None and now >= entry.expires_at
        ):
            del self._entries[key_hash]
            return None
        return entry.principal

    async def check_once(
        self, key_hash: str, check: Callable[[], Awaitable[Principal]]
    ) -> Principal:
        """`check()` of the key, shared by every caller that asks while one is under way."""
        checking = self._checking.get(key_hash)
        if checking is None:
            checking = asyncio.ensure_future(check())
            self._checking[key_hash] = checking
            checking.add_done_callback(lambda _: self._checking.pop(key_hash, None))
        return await asyncio.shield(checking)

    def put(self, key_hash: str, principal: Principal, expires_at: datetime | None) -> None:
        if self.ttl_s <= 0:
            return
        if len(self._entries) >= self.max_entries:
            del self._entries[next(iter(self._entries))]  # the oldest
        self._entries[key_hash] = _Entry(principal, self.clock() + self.ttl_s, expires_at)

    def forget(self, key_id: uuid.UUID) -> None:
        """Stop trusting a key at once (it was revoked here)."""
        for key_hash in [h for h, e in self._entries.items() if e.principal.key_id == key_id]:
            del self._entries[key_hash]
