"""The wait between attempts to reopen a lost database connection: doubling, jittered, capped,
so nodes neither hammer a database still starting nor arrive together."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from practicegen.config import Settings


@dataclass
class Backoff:
    initial_s: float
    max_s: float
    _failures: int = field(default=0, init=False)
    _rng: random.Random = field(default_factory=random.Random, init=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Backoff:
        return cls(settings.db_reconnect_initial_s, settings.db_reconnect_max_s)

    def next_delay(self) -> float:
        """The wait before the next attempt (each failure doubles it, up to `max_s`)."""
        delay = min(self.max_s, self.initial_s * 2.0 ** min(self._failures, 30))
        self._failures += 1
        return delay * self._rng.uniform(0.5, 1.0)

    def reset(self) -> None:
        self._failures = 0
