"""A node's short memory of the API keys and tokens it has checked, sparing a database round
trip on every request. A key is trusted for `PRACTICEGEN_AUTH_CACHE_S` seconds (0: not at
all), so one revoked on another node is refused here within that time; a token never past its
own expiry."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
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

    def get(self, key_hash: str, now: datetime) -> Principal | None:
        entry = self._entries.get(key_hash)
        if entry is None:
            return None
        if self.clock() >= entry.trusted_until or (
            entry.expires_at is not None and now >= entry.expires_at
        ):
            del self._entries[key_hash]
            return None
        return entry.principal

    def put(self, key_hash: str, principal: Principal, expires_at: datetime | None) -> None:
        if self.ttl_s <= 0:
            return
        if len(self._entries) >= self.max_entries:
            del self._entries[next(iter(self._entries))]  # the oldest
        self._entries[key_hash] = _Entry(principal, self.clock() + self.ttl_s, expires_at)

    def forget(self, key_id: uuid.UUID) -> None:
        """Stop trusting a key at once (it was revoked here)."""
        stale = [h for h, e in self._entries.items() if e.principal.key_id == key_id]
        for key_hash in stale:
            del self._entries[key_hash]
