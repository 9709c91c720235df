"""What a node needs besides its database, as `/readyz` checks it: warm pools, a running worker,
a live LISTEN connection, and (an API node without a worker) some worker seen within a grace.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from practicegen.db.listener import PostgresListener
from practicegen.jobs.presence import Sighting
from practicegen.jobs.worker_state import WorkerState


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    message: str
    details: dict[str, Any]


@dataclass
class Readiness:
    worker: WorkerState | None = None  # None when this process runs no jobs
    listener: PostgresListener | None = None
    listener_grace_s: float = 10.0
    needs_remote_worker: bool = False  # no worker here, on PostgreSQL: one must be seen
    worker_seen_grace_s: float = 30.0
    warming_up: asyncio.Task[None] | None = None  # the pools' start: ready once it has ended
    _worker_seen_at: float | None = None  # the first check starts the grace

    def local_problem(self) -> Problem | None:
        """What this process knows without asking the database."""
        if self.warming_up is not None and not self.warming_up.done():
            message = "This node is still starting its grading and generation processes."
            return Problem("warming_up", message, {})
        if self.worker is not None and not self.worker.running:
            return Problem(
                "worker_unavailable",
                "This node's job worker is not taking jobs.",
                {
                    "worker_status": str(self.worker.status),
                    "for_s": round(time.monotonic() - self.worker.since, 1),
                },
            )
        if self.listener is not None:
            down_s = self.listener.down_for()
            if down_s > self.listener_grace_s:
                return Problem(
                    "listener_disconnected",
                    "This node has not heard the database's change notifications for too long.",
                    {"down_s": round(down_s, 1), "grace_s": self.listener_grace_s},
                )
        return None

    def workers_problem(self, workers: Sighting) -> Problem | None:
        """On PostgreSQL without an in-process worker: whether any worker has been seen."""
        if not self.needs_remote_worker:
            return None
        now = time.monotonic()
        if workers.seen or self._worker_seen_at is None:
            self._worker_seen_at = now
        unseen_s = now - self._worker_seen_at
        if workers.seen or unseen_s <= self.worker_seen_grace_s:
            return None
        return Problem(
            "no_worker",
            "No job worker has been seen lately: jobs created here would not run.",
            {
                "unseen_s": round(unseen_s, 1),
                "grace_s": self.worker_seen_grace_s,
                "workers": workers.as_dict(),
            },
        )
