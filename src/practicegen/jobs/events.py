"""Telling waiting clients that a job changed: writers mark changed rows (`mark_changed`), handed
to this process's watchers after the commit and, on PostgreSQL, to other nodes by NOTIFY."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import structlog
from sqlalchemy import ColumnElement, Table, Text, case, cast, event, func
from sqlalchemy.orm import Session

from practicegen.db.models import Job
from practicegen.errors import ServiceBusy
from practicegen.jobs.followers import FollowedJob, FollowerReads

log = structlog.get_logger()
CHANNEL = "practicegen_jobs"
_CHANGED = "practicegen.changed_jobs"
_HUB = "practicegen.job_changes"
_MAX_PAYLOAD = 7900  # PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more
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
        """Whether it carries every field a running attempt changes."""
        return self.status == "processing" and None not in (self.attempt, self.updated_at)

    @classmethod
    def of(cls, job: Job | FollowedJob) -> JobChange:
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


class News(NamedTuple):
    """What a watcher has not acted on yet."""

    change: JobChange | None  # the newest change of a running job signalled whole
    job: FollowedJob | None  # the newest read of the job made for all its watchers
    stale: bool  # the watcher must read the job itself (none could be read for it)


class Watch:
    """One waiter on one job: `changed` is set when there is news; `take()` collects it."""

    def __init__(self) -> None:
        self.changed = asyncio.Event()
        self.seen = -1  # the newest seq its owner has acted on
        self._latest: JobChange | None = None
        self._read: FollowedJob | None = None
        self._stale = False

    def deliver(self, change: JobChange | None) -> None:
        """News: a change with its seq, or None (or a bare id) for "read the job again"."""
        if change is None or change.seq is None:
            self._stale = True
        elif self._latest is None or (self._latest.seq or -1) < change.seq:
            self._latest = change
        self.changed.set()

    def deliver_read(self, job: FollowedJob) -> None:
        if self._read is None or self._read.seq < job.seq:
            self._read = job
        self.changed.set()

    def take(self) -> News:
        news = News(self._latest, self._read, self._stale)
        self._latest, self._read, self._stale = None, None, False
        self.changed.clear()
        return news


class TooManyFollowers(ServiceBusy):
    code = "too_many_followers"
    default_message = "This node follows as many jobs for clients as it may; retry shortly."
    retry_after_s = 2


class JobChanges:
    """This process's watchers, by job id; at most `max_watches` at once."""

    def __init__(self, max_watches: int | None = None) -> None:
        self.max_watches = max_watches
        self.reads: FollowerReads | None = None  # without it each watcher reads for itself
        self._watches: dict[uuid.UUID, set[Watch]] = {}
        self._count = 0
        self._reading: set[asyncio.Task[None]] = set()

    def notify(self, change: JobChange) -> None:
        watches = self._watches.get(change.job_id, ())
        if change.running:
            for watch in watches:
                watch.deliver(change)
        elif watches:
            self._read_for_watchers(change.job_id)

    def notify_all(self) -> None:
        """Every watched job is read again (news may have been missed)."""
        for job_id in self._watches:
            self._read_for_watchers(job_id)

    def _read_for_watchers(self, job_id: uuid.UUID) -> None:
        if self.reads is None:
            for watch in self._watches.get(job_id, ()):
                watch.deliver(None)
            return
        task = asyncio.get_running_loop().create_task(self._hand_over(self.reads, job_id))
        self._reading.add(task)
        task.add_done_callback(self._reading.discard)

    async def _hand_over(self, reads: FollowerReads, job_id: uuid.UUID) -> None:
        try:
            job = await reads.get(job_id)
        except Exception as exc:  # each watcher reads for itself, retrying as the database allows
            log.warning("jobs.change_read_failed", job_id=str(job_id), error=str(exc)[:200])
            job = None
        for watch in self._watches.get(job_id, ()):
            if job is None:  # gone, or unread: the watcher's own read says which
                watch.deliver(None)
            else:
                watch.deliver_read(job)

    async def aclose(self) -> None:
        """Stop the reads still under way (the node is stopping)."""
        for task in list(self._reading):
            task.cancel()
        await asyncio.gather(*self._reading, return_exceptions=True)

    @contextmanager
    def watch(self, job_id: uuid.UUID) -> Iterator[Watch]:
        """A watch on `job_id` while the block runs; `TooManyFollowers` past `max_watches`."""
        if self.max_watches is not None and self._count >= self.max_watches:
            raise TooManyFollowers(limit=self.max_watches)
        watch = Watch()
        self._watches.setdefault(job_id, set()).add(watch)
        self._count += 1
        try:
            yield watch
        finally:
            self._count -= 1
            watches = self._watches[job_id]
            watches.discard(watch)
            if not watches:
                del self._watches[job_id]

    def watched_jobs(self) -> list[uuid.UUID]:
        return list(self._watches)

    @property
    def watchers(self) -> int:
        return self._count


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


def deliver_notification(hub: JobChanges, payload: str) -> None:
    """The node listener's handler for `CHANNEL` (see `db/listener.py`)."""
    try:
        change = JobChange.parse(payload)
    except ValueError:
        log.warning("jobs.bad_notification", payload=payload[:100])
        return
    hub.notify(change)
