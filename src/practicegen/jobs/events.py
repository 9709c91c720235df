"""Telling waiting clients that a job changed: in-process, and across nodes through PostgreSQL.

A change signal carries only a job id; whoever waits re-reads the job from the jobs table, so a
lost or duplicated signal costs at most a delay or a read, never a wrong state. Writers record
the ids they changed in the session (`mark_changed`); after the commit the hub wakes this
process's waiters. On PostgreSQL the repository also sends `NOTIFY practicegen_jobs, '<id>'`
inside the transaction (delivered on commit), and every API node runs a `PostgresListener` that
feeds those into its own hub: a WebSocket on node B sees a job run by a worker on node C. When
the LISTEN connection drops, the listener reconnects and wakes every waiter to re-read.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import structlog
from sqlalchemy import event
from sqlalchemy.orm import Session

log = structlog.get_logger()
CHANNEL = "practicegen_jobs"
_CHANGED = "practicegen.changed_jobs"
_HUB = "practicegen.job_changes"


class JobChanges:
    """This process's waiters, by job id."""

    def __init__(self) -> None:
        self._waiters: dict[uuid.UUID, set[asyncio.Event]] = {}

    def notify(self, job_id: uuid.UUID) -> None:
        for waiter in self._waiters.get(job_id, ()):
            waiter.set()

    def notify_all(self) -> None:
        for waiters in self._waiters.values():
            for waiter in waiters:
                waiter.set()

    @contextmanager
    def watch(self, job_id: uuid.UUID) -> Iterator[asyncio.Event]:
        waiter = asyncio.Event()
        self._waiters.setdefault(job_id, set()).add(waiter)
        try:
            yield waiter
        finally:
            waiters = self._waiters.get(job_id)
            if waiters is not None:
                waiters.discard(waiter)
                if not waiters:
                    del self._waiters[job_id]

    @property
    def watched(self) -> int:
        return sum(len(w) for w in self._waiters.values())


def session_info(hub: JobChanges) -> dict[str, object]:
    """The `info` a sessionmaker gives its sessions so their commits reach `hub`."""
    return {_HUB: hub}


def mark_changed(session: Session, job_id: uuid.UUID) -> None:
    changed: set[uuid.UUID] = session.info.setdefault(_CHANGED, set())
    changed.add(job_id)


@event.listens_for(Session, "after_commit")
def _wake_waiters(session: Session) -> None:
    changed: set[uuid.UUID] = session.info.pop(_CHANGED, set())
    hub = session.info.get(_HUB)
    if isinstance(hub, JobChanges):
        for job_id in changed:
            hub.notify(job_id)


@event.listens_for(Session, "after_rollback")
def _forget_changes(session: Session) -> None:
    session.info.pop(_CHANGED, None)


class PostgresListener:
    """LISTENs on the jobs channel and feeds this process's hub; reconnects when dropped."""

    def __init__(self, conninfo: str, hub: JobChanges, *, retry_s: float = 1.0) -> None:
        self.conninfo = conninfo
        self.hub = hub
        self.retry_s = retry_s
        self.connected = asyncio.Event()

    async def run(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.connected.set()
                    self.hub.notify_all()  # resync: anything may have changed while we were away
                    async for note in conn.notifies():
                        self._deliver(note.payload)
            except (psycopg.Error, OSError) as exc:
                self.connected.clear()
                log.warning("jobs.listen_lost", error=str(exc))
                await asyncio.sleep(self.retry_s)

    def _deliver(self, payload: str) -> None:
        try:
            self.hub.notify(uuid.UUID(payload))
        except ValueError:
            log.warning("jobs.bad_notification", payload=payload[:100])
