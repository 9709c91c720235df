"""What a node needs besides its database to do its job, as `/readyz` checks it.

Its in-process worker (if any) must be dequeueing; on PostgreSQL its LISTEN connection must be
up or only briefly down, and an API node without a worker needs some worker connected (seen in
`pg_stat_activity` as `WORKER_APPLICATION_NAME`) within a grace, so nodes may start in any
order. Each check answers `None` (fine) or a `Problem`, which `/readyz` turns into a 503.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.db.listener import PostgresListener
from practicegen.jobs.pgdriver import WORKER_APPLICATION_NAME
from practicegen.jobs.worker_state import WorkerState

_WORKERS_CONNECTED = text(
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND application_name = :name"
)


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    message: str
    details: dict[str, Any]


@dataclass
class Readiness:
    worker: WorkerState | None = None
    """The in-process worker's state; None when this process runs no jobs."""
    listener: PostgresListener | None = None
    listener_grace_s: float = 10.0
    needs_remote_worker: bool = False
    """PostgreSQL, no worker in this process: some worker must be connected somewhere."""
    worker_seen_grace_s: float = 30.0
    _worker_seen_at: float | None = None  # the first check starts the grace

    def local_problem(self) -> Problem | None:
        """What this process knows without asking the database."""
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

    async def remote_problem(self, session: AsyncSession) -> Problem | None:
        """On PostgreSQL without an in-process worker: whether any worker is connected."""
        if not self.needs_remote_worker:
            return None
        now = time.monotonic()
        workers = await session.scalar(_WORKERS_CONNECTED, {"name": WORKER_APPLICATION_NAME})
        if workers or self._worker_seen_at is None:
            self._worker_seen_at = now
        if workers:
            return None
        unseen_s = now - self._worker_seen_at
        if unseen_s <= self.worker_seen_grace_s:
            return None
        return Problem(
            "no_worker",
            "No job worker is connected to the database: jobs created here would not run.",
            {"unseen_s": round(unseen_s, 1), "grace_s": self.worker_seen_grace_s},
        )
