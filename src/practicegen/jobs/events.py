"""Telling waiting clients that a job changed: in-process, and across nodes through PostgreSQL.

A `JobChange` carries the job's id and, when it fits, its new `seq`, status and progress, so a
subscriber forwards progress without reading the job. Writers mark changed rows in the session
(`mark_changed`), handed to this process's watchers after the commit; on PostgreSQL each write
also sends `NOTIFY practicegen_jobs` for other nodes. Signals can be lost, so `notify_all` and
`resync_watchers` wake watchers left behind.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import ColumnElement, Table, Text, case, cast, event, func, select
from sqlalchemy.orm import Session

from practicegen.db.engine import SessionMaker
from practicegen.db.models import Job

log = structlog.get_logger()
CHANNEL = "practicegen_jobs"
_CHANGED = "practicegen.changed_jobs"
_HUB = "practicegen.job_changes"
_MAX_PAYLOAD = 7900  # PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more
_RESYNC_BATCH = 500
CHANGE_COLUMNS = tuple(
    ["id", "seq", "status", "progress_percent", "progress_message", "attempt", "updated_at"]
)
"""A job's columns a change signal carries, in the order of `JobChange`'s fields."""


@dataclass(frozen=True, slots=True)
class JobChange:
    """A job changed; `seq` and the rest are None when the signal could not carry them."""

    job_id: uuid.UUID
    seq: int | None = None
    status: str | None = None
    progress_percent: int | None = None
    progress_message: str | None = None
    attempt: int | None = None
    updated_at: datetime | None = None

    @property
    def running(self) -> bool:
        """Whether the signal alone says all a subscriber needs (not a terminal state)."""
        return self.seq is not None and self.status in ("pending", "processing")

    @property
    def progress_of_attempt(self) -> bool:
        """Whether it carries every field a running attempt changes, so the job need not be read."""
        return self.status == "processing" and None not in (self.attempt, self.updated_at)

    @classmethod
    def of(cls, job: Job) -> JobChange:
        return cls(*(getattr(job, column) for column in CHANGE_COLUMNS))

    @classmethod
    def parse(cls, payload: str) -> JobChange:
        """What `signal_in_returning` sends; ValueError for anything else."""
        if not payload.startswith("["):
            return cls(uuid.UUID(payload))
        try:
            fields = json.loads(payload)
            job_id = uuid.UUID(fields[0])
            seq, status, percent, message = fields[1:5]
            attempt, updated = [*fields[5:7], None, None][:2]
            updated_at = datetime.fromisoformat(updated) if isinstance(updated, str) else None
        except (json.JSONDecodeError, IndexError, TypeError, ValueError) as exc:
            raise ValueError(f"not a job change: {payload[:100]!r}") from exc
        if not isinstance(seq, int) or not isinstance(status, str):
            raise ValueError(f"not a job change: {payload[:100]!r}")
        if not isinstance(attempt, int) or updated_at is None or updated_at.tzinfo is None:
            attempt, updated_at = None, None
        return cls(job_id, seq, status, percent, message, attempt, updated_at)


def signal_in_returning(jobs: Table) -> ColumnElement[object]:
    """`NOTIFY` of each row an UPDATE changed, for its RETURNING: its `CHANGE_COLUMNS` or id."""
    columns = [cast(jobs.c.id, Text), *(jobs.c[name] for name in CHANGE_COLUMNS[1:])]
    full = cast(func.json_build_array(*columns), Text)
    payload = case((func.octet_length(full) <= _MAX_PAYLOAD, full), else_=cast(jobs.c.id, Text))
    return func.pg_notify(CHANNEL, payload).label("signalled")


class Watch:
    """One waiter on one job: `changed` is set when there is news; `take()` collects it."""

    def __init__(self) -> None:
        self.changed = asyncio.Event()
        self.seen = -1  # the newest seq its owner has acted on; resync wakes it when behind
        self._latest: JobChange | None = None
        self._stale = False

    def deliver(self, change: JobChange | None) -> None:
        """News: a change with its seq, or None (or a bare id) for "read the job again"."""
        if change is None or change.seq is None:
            self._stale = True
        elif self._latest is None or (self._latest.seq or -1) < change.seq:
            self._latest = change
        self.changed.set()

    def take(self) -> tuple[JobChange | None, bool]:
        """(the newest change signalled, whether the job must be read) since the last take."""
        latest, stale = self._latest, self._stale
        self._latest, self._stale = None, False
        self.changed.clear()
        return latest, stale


class JobChanges:
    """This process's watchers, by job id."""

    def __init__(self) -> None:
        self._watches: dict[uuid.UUID, set[Watch]] = {}

    def notify(self, change: JobChange) -> None:
        for watch in self._watches.get(change.job_id, ()):
            watch.deliver(change)

    def notify_all(self) -> None:
        self.behind({}, list(self._watches))

    def behind(self, seqs: dict[uuid.UUID, int], asked: list[uuid.UUID]) -> int:
        """Wake each watcher of `asked` behind its job's `seq` (or whose job is gone); how many."""
        woken = 0
        for job_id in asked:
            seq = seqs.get(job_id)
            for watch in self._watches.get(job_id, ()):
                if seq is None or watch.seen < seq:
                    watch.deliver(None)
                    woken += 1
        return woken

    @contextmanager
    def watch(self, job_id: uuid.UUID) -> Iterator[Watch]:
        watch = Watch()
        self._watches.setdefault(job_id, set()).add(watch)
        try:
            yield watch
        finally:
            watches = self._watches.get(job_id)
            if watches is not None:
                watches.discard(watch)
                if not watches:
                    del self._watches[job_id]

    def watched_jobs(self) -> list[uuid.UUID]:
        return list(self._watches)


def session_info(hub: JobChanges) -> dict[str, object]:
    """The `info` a sessionmaker gives its sessions so their commits reach `hub`."""
    return {_HUB: hub}


def mark_changed(session: Session, change: JobChange) -> None:
    changed: dict[uuid.UUID, JobChange] = session.info.setdefault(_CHANGED, {})
    earlier = changed.get(change.job_id)
    if earlier is None or (earlier.seq or -1) < (change.seq or -1):
        changed[change.job_id] = change


@event.listens_for(Session, "after_commit")
def _wake_waiters(session: Session) -> None:
    changed: dict[uuid.UUID, JobChange] = session.info.pop(_CHANGED, {})
    hub = session.info.get(_HUB)
    if isinstance(hub, JobChanges):
        for change in changed.values():
            hub.notify(change)


@event.listens_for(Session, "after_rollback")
def _forget_changes(session: Session) -> None:
    session.info.pop(_CHANGED, None)


async def resync_watchers(hub: JobChanges, sessionmaker: SessionMaker, every_s: float) -> None:
    """Every `every_s`, one read of the watched jobs' `seq`s wakes the watchers left behind."""
    while True:
        await asyncio.sleep(every_s)
        try:
            await _resync_once(hub, sessionmaker)
        except Exception:  # a database hiccup must not stop the safety net; try next round
            log.exception("jobs.resync_failed")


async def _resync_once(hub: JobChanges, sessionmaker: SessionMaker) -> None:
    watched = hub.watched_jobs()
    for start in range(0, len(watched), _RESYNC_BATCH):
        batch = watched[start : start + _RESYNC_BATCH]
        async with sessionmaker() as session:
            rows = await session.execute(select(Job.id, Job.seq).where(Job.id.in_(batch)))
            seqs = {job_id: seq for job_id, seq in rows}
        if woken := hub.behind(seqs, batch):
            log.info("jobs.resync_woke", watchers=woken)


def deliver_notification(hub: JobChanges, payload: str) -> None:
    """The node listener's handler for `CHANNEL` (see `db/listener.py`)."""
    try:
        change = JobChange.parse(payload)
    except ValueError:
        log.warning("jobs.bad_notification", payload=payload[:100])
        return
    hub.notify(change)
