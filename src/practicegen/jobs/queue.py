"""The queue port and its two pgqueuer adapters.

A queue message names a job row; the row in `jobs` is the truth about the job, the message only
says "run it". Both adapters run pgqueuer's QueueManager, so dequeueing, concurrency limits and
(on PostgreSQL) heartbeats and re-picking a dead worker's job are pgqueuer's.

- `PostgresQueue` (distributed): the message is inserted through the caller's own transaction,
  so the job row and its message commit or roll back together. Workers on any machine dequeue.
- `EmbeddedQueue` (SQLite): pgqueuer's in-memory adapter inside the serving process. A message
  is handed over only after the caller's transaction commits (a worker must never see a message
  before its row), and at start-up every unfinished job is enqueued again, so a crash or restart
  loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Protocol

import psycopg
import structlog
from pgqueuer import PgQueuer
from pgqueuer.errors import RetryRequested
from pgqueuer.models import Job as QueueMessage
from pgqueuer.queries import Queries
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.db.reconnect import Backoff
from practicegen.jobs.pgdriver import ReconnectingDriver
from practicegen.jobs.worker_state import WorkerState, WorkerStatus

log = structlog.get_logger()
ENTRYPOINT = "practicegen_job"
JobHandler = Callable[[uuid.UUID], Awaitable[None]]


class JobQueue(Protocol):
    state: WorkerState
    """What this process's consumer of the queue is doing (readiness reads it)."""

    async def enqueue(
        self, session: AsyncSession, job_id: uuid.UUID, *, delay_s: float = 0
    ) -> None:
        """Queue a run of the job as part of the session's transaction."""
        ...

    async def run(self, handler: JobHandler, *, concurrency: int) -> None:
        """Hand queued jobs to `handler` until `stop()`; then wait for those in flight."""
        ...

    def stop(self) -> None: ...


class _TransactionDriver:
    """pgqueuer's driver port over a psycopg connection that is inside our transaction.

    pgqueuer's own psycopg driver insists on autocommit, which would commit the message apart
    from the job row; enqueueing only needs `fetch` and `execute`, which this provides.
    """

    def __init__(self, connection: psycopg.AsyncConnection[Any]) -> None:
        self._connection = connection

    async def fetch(self, query: str, *args: object) -> list[dict[str, object]]:
        from psycopg import AsyncRawCursor
        from psycopg.rows import dict_row

        cursor = AsyncRawCursor(self._connection, row_factory=dict_row)
        await cursor.execute(query, args or None)
        return await cursor.fetchall()

    async def execute(self, query: str, *args: object) -> str:
        from psycopg import AsyncRawCursor

        cursor = AsyncRawCursor(self._connection)
        await cursor.execute(query, args or None)
        return cursor.statusmessage or ""


def _handed_back(job_id: uuid.UUID, exc: Exception) -> RetryRequested:
    """The runner turns every failure of a job into its outcome; what reaches here is the
    infrastructure failing around it (no pooled connection to claim the job with, say). Left to
    pgqueuer, the message would be dropped and the job would stay pending forever; a retry puts
    the message back, to be taken again shortly."""
    log.warning("job.handed_back", job_id=str(job_id), error=f"{type(exc).__name__}: {exc}")
    return RetryRequested(delay=_HAND_BACK_DELAY, reason="infrastructure error")


def _job_id(message: QueueMessage) -> uuid.UUID:
    assert message.payload is not None
    return uuid.UUID(bytes=message.payload)


_HAND_BACK_DELAY = timedelta(seconds=1)


class PostgresQueue:
    """Runs pgqueuer's QueueManager under a supervisor: should its run loop end with an error
    (the database away for longer than the driver waits, or at start), the loop is built again
    on new connections after a backoff, until `stop()`. Jobs in flight when a loop ends keep
    running and finish through the application's own pool; a message they could not settle
    stays picked and is handed back by its heartbeat timeout, and its job row (fenced by
    attempt) decides whether anything is left to run."""

    def __init__(
        self,
        conninfo: str,
        *,
        heartbeat_timeout_s: float,
        poll_s: float,
        backoff: Backoff | None = None,
        connect_timeout_s: float = 5.0,
    ) -> None:
        self.conninfo = conninfo
        self.heartbeat_timeout = timedelta(seconds=heartbeat_timeout_s)
        self.poll = timedelta(seconds=poll_s)
        self.backoff = backoff or Backoff(0.5, 15.0)
        self.connect_timeout_s = connect_timeout_s
        self.state = WorkerState()
        self._pgq: PgQueuer | None = None
        self._driver: ReconnectingDriver | None = None
        self._stopping = asyncio.Event()
        self._released = False
        self._running: set[asyncio.Task[Any]] = set()

    async def enqueue(
        self, session: AsyncSession, job_id: uuid.UUID, *, delay_s: float = 0
    ) -> None:
        connection = await (await session.connection()).get_raw_connection()
        driver = _TransactionDriver(connection.driver_connection)  # type: ignore[arg-type]
        await Queries(driver).enqueue(  # type: ignore[arg-type]
            ENTRYPOINT, job_id.bytes, execute_after=timedelta(seconds=max(delay_s, 0))
        )

    async def run(self, handler: JobHandler, *, concurrency: int) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    await self._run_once(handler, concurrency)
                except Exception as exc:
                    if self._stopping.is_set():
                        break
                    self.state.set(WorkerStatus.RECONNECTING)
                    delay = self.backoff.next_delay()
                    log.warning("worker.queue_failed", error=_said(exc), restart_in_s=delay)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), delay)
        finally:
            self.state.set(WorkerStatus.STOPPED)

    async def _run_once(self, handler: JobHandler, concurrency: int) -> None:
        driver = ReconnectingDriver(
            self.conninfo,
            Backoff(self.backoff.initial_s, self.backoff.max_s),  # its own count of failures
            connect_timeout_s=self.connect_timeout_s,
            on_change=self._connections_changed,
        )
        pgq = PgQueuer(connection=driver)
        pgq.entrypoint(ENTRYPOINT)(self._entrypoint(handler))
        self._pgq, self._driver = pgq, driver
        if self._stopping.is_set():
            return
        try:
            await pgq.run(
                dequeue_timeout=self.poll,
                batch_size=max(1, concurrency // 2),
                max_concurrent_tasks=max(2, concurrency),
                heartbeat_timeout=self.heartbeat_timeout,
            )
        finally:
            await driver.aclose()

    def _connections_changed(self, connected: bool) -> None:
        if connected:
            self.backoff.reset()  # the loop runs: its next failure waits from the start again
        if not self._stopping.is_set():
            self.state.set(WorkerStatus.RUNNING if connected else WorkerStatus.RECONNECTING)

    def _entrypoint(self, handler: JobHandler) -> Callable[[QueueMessage], Awaitable[None]]:
        async def _run(message: QueueMessage) -> None:
            job_id = _job_id(message)
            task = asyncio.current_task()
            assert task is not None
            if self._released:
                raise RetryRequested(reason="worker stopping")
            self._running.add(task)
            try:
                await handler(job_id)
            except asyncio.CancelledError:
                # The attempt was given up unfinished (its job row stays `processing`). Left
                # to pgqueuer, a cancelled job's message is deleted and nothing would ever
                # run the job again; asking for a retry puts the message back at once.
                task.uncancel()
                log.warning("job.released", job_id=str(job_id))
                raise RetryRequested(reason="worker stopping") from None
            except Exception as exc:
                raise _handed_back(job_id, exc) from exc
            finally:
                self._running.discard(task)

        return _run

    def stop(self) -> None:
        self._stopping.set()
        if self._driver is not None:
            self._driver.stop_waiting()
        if self._pgq is not None:
            self._pgq.shutdown.set()

    def release(self) -> None:
        """Give up the attempts in flight (after `stop`): cancel them, hand their jobs back."""
        self._released = True
        for task in list(self._running):
            task.cancel()


def _said(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class EmbeddedQueue:
    def __init__(self) -> None:
        self._pgq = PgQueuer.in_memory()
        self._handoffs: set[asyncio.Task[None]] = set()
        self.state = WorkerState()
        self.state.set(WorkerStatus.RUNNING)  # nothing to connect to: it takes jobs once run

    async def enqueue(
        self, session: AsyncSession, job_id: uuid.UUID, *, delay_s: float = 0
    ) -> None:
        loop = asyncio.get_running_loop()

        def after_commit(_session: object) -> None:
            loop.call_soon_threadsafe(self._hand_over, job_id, delay_s)

        event.listen(session.sync_session, "after_commit", after_commit, once=True)

    async def enqueue_now(self, job_id: uuid.UUID, *, delay_s: float = 0) -> None:
        assert self._pgq.queries is not None
        await self._pgq.queries.enqueue(
            ENTRYPOINT, job_id.bytes, execute_after=timedelta(seconds=max(delay_s, 0))
        )

    def _hand_over(self, job_id: uuid.UUID, delay_s: float) -> None:
        task = asyncio.get_running_loop().create_task(self.enqueue_now(job_id, delay_s=delay_s))
        self._handoffs.add(task)
        task.add_done_callback(self._handoff_done)

    def _handoff_done(self, task: asyncio.Task[None]) -> None:
        self._handoffs.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("jobs.enqueue_failed", error=repr(task.exception()))

    async def run(self, handler: JobHandler, *, concurrency: int) -> None:
        @self._pgq.entrypoint(ENTRYPOINT)
        async def _run(message: QueueMessage) -> None:
            job_id = _job_id(message)
            try:
                await handler(job_id)
            except Exception as exc:
                raise _handed_back(job_id, exc) from exc

        try:
            await self._pgq.run(
                dequeue_timeout=timedelta(seconds=1),
                batch_size=max(1, concurrency // 2),
                max_concurrent_tasks=max(2, concurrency),
            )
        finally:
            self.state.set(WorkerStatus.STOPPED)

    def stop(self) -> None:
        self._pgq.shutdown.set()
