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

Job types given a `Lane` (`jobs/lanes.py`) are queued under the lane's entrypoint, which runs
in slots of its own beside the `concurrency` of `run`, with a share per tenant: on PostgreSQL
each lane has a queue manager (and two connections) of its own.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
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

from practicegen.jobs.lanes import Lane, lane_of
from practicegen.jobs.pgdriver import TwoConnectionDriver

log = structlog.get_logger()
ENTRYPOINT = "practicegen_job"
JobHandler = Callable[[uuid.UUID], Awaitable[None]]


class JobQueue(Protocol):
    lanes: Sequence[Lane]

    async def enqueue(
        self,
        session: AsyncSession,
        job_id: uuid.UUID,
        *,
        delay_s: float = 0,
        job_type: str | None = None,
        tenant_id: uuid.UUID | None = None,
    ) -> None:
        """Queue a run of the job as part of the session's transaction (in its type's lane)."""
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


def _message_of(
    lanes: Sequence[Lane], job_type: str | None, tenant_id: uuid.UUID | None
) -> tuple[str, dict[str, str] | None]:
    """The entrypoint and headers of a job's queue message."""
    lane = lane_of(lanes, job_type)
    return (ENTRYPOINT, None) if lane is None else (lane.entrypoint, lane.headers(tenant_id))


class PostgresQueue:
    def __init__(
        self,
        conninfo: str,
        *,
        heartbeat_timeout_s: float,
        poll_s: float,
        lanes: Sequence[Lane] = (),
    ) -> None:
        self.conninfo = conninfo
        self.lanes = lanes
        self.heartbeat_timeout = timedelta(seconds=heartbeat_timeout_s)
        self.poll = timedelta(seconds=poll_s)
        self._pgqs: list[PgQueuer] = []
        self._stopping = asyncio.Event()
        self._released = False
        self._running: set[asyncio.Task[Any]] = set()

    async def enqueue(
        self,
        session: AsyncSession,
        job_id: uuid.UUID,
        *,
        delay_s: float = 0,
        job_type: str | None = None,
        tenant_id: uuid.UUID | None = None,
    ) -> None:
        connection = await (await session.connection()).get_raw_connection()
        driver = _TransactionDriver(connection.driver_connection)  # type: ignore[arg-type]
        entrypoint, headers = _message_of(self.lanes, job_type, tenant_id)
        await Queries(driver).enqueue(  # type: ignore[arg-type]
            entrypoint,
            job_id.bytes,
            execute_after=timedelta(seconds=max(delay_s, 0)),
            headers=headers,
        )

    async def run(self, handler: JobHandler, *, concurrency: int) -> None:
        """The jobs' consumer and one per lane: pgqueuer bounds the messages one consumer has
        picked (`max_concurrent_tasks`) over all its entrypoints, so a lane sharing the jobs'
        consumer could take their slots, or they its."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._consume(handler, concurrency=concurrency, lane=None))
            for lane in self.lanes:
                group.create_task(self._consume(handler, concurrency=lane.concurrency, lane=lane))

    async def _consume(self, handler: JobHandler, *, concurrency: int, lane: Lane | None) -> None:
        async with (
            await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True) as queries,
            await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True) as listens,
        ):
            pgq = PgQueuer(connection=TwoConnectionDriver(queries, listens))

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

            if lane is None:
                pgq.entrypoint(ENTRYPOINT)(_run)
            else:  # the lane's limit counts every worker's picked messages
                pgq.entrypoint(lane.entrypoint, concurrency_limit=lane.concurrency)(
                    lane.admitting(_run)
                )
            self._pgqs.append(pgq)
            if self._stopping.is_set():
                return
            await pgq.run(
                dequeue_timeout=self.poll,
                batch_size=max(1, concurrency // 2),
                max_concurrent_tasks=max(2, concurrency),
                heartbeat_timeout=self.heartbeat_timeout,
            )

    def stop(self) -> None:
        self._stopping.set()
        for pgq in self._pgqs:
            pgq.shutdown.set()

    def release(self) -> None:
        """Give up the attempts in flight (after `stop`): cancel them, hand their jobs back."""
        self._released = True
        for task in list(self._running):
            task.cancel()


class EmbeddedQueue:
    def __init__(self, *, lanes: Sequence[Lane] = ()) -> None:
        self._pgq = PgQueuer.in_memory()
        self._handoffs: set[asyncio.Task[None]] = set()
        self.lanes = lanes

    async def enqueue(
        self,
        session: AsyncSession,
        job_id: uuid.UUID,
        *,
        delay_s: float = 0,
        job_type: str | None = None,
        tenant_id: uuid.UUID | None = None,
    ) -> None:
        loop = asyncio.get_running_loop()
        message = _message_of(self.lanes, job_type, tenant_id)

        def after_commit(_session: object) -> None:
            loop.call_soon_threadsafe(self._hand_over, job_id, delay_s, message)

        event.listen(session.sync_session, "after_commit", after_commit, once=True)

    async def enqueue_now(
        self,
        job_id: uuid.UUID,
        *,
        delay_s: float = 0,
        message: tuple[str, dict[str, str] | None] = (ENTRYPOINT, None),
    ) -> None:
        assert self._pgq.queries is not None
        entrypoint, headers = message
        await self._pgq.queries.enqueue(
            entrypoint,
            job_id.bytes,
            execute_after=timedelta(seconds=max(delay_s, 0)),
            headers=headers,
        )

    def _hand_over(
        self, job_id: uuid.UUID, delay_s: float, message: tuple[str, dict[str, str] | None]
    ) -> None:
        enqueued = self.enqueue_now(job_id, delay_s=delay_s, message=message)
        task = asyncio.get_running_loop().create_task(enqueued)
        self._handoffs.add(task)
        task.add_done_callback(self._handoff_done)

    def _handoff_done(self, task: asyncio.Task[None]) -> None:
        self._handoffs.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("jobs.enqueue_failed", error=repr(task.exception()))

    async def run(self, handler: JobHandler, *, concurrency: int) -> None:
        async def _run(message: QueueMessage) -> None:
            job_id = _job_id(message)
            try:
                await handler(job_id)
            except Exception as exc:
                raise _handed_back(job_id, exc) from exc

        # In memory the limits count this process's messages only: one manager bounds the jobs'
        # entrypoint and each lane's apart.
        self._pgq.entrypoint(ENTRYPOINT, concurrency_limit=max(2, concurrency))(_run)
        for lane in self.lanes:
            self._pgq.entrypoint(lane.entrypoint, concurrency_limit=lane.concurrency)(
                lane.admitting(_run)
            )
        slots = max(2, concurrency) + sum(lane.concurrency for lane in self.lanes)
        await self._pgq.run(
            dequeue_timeout=timedelta(seconds=1),
            batch_size=max(1, slots // 2),
            max_concurrent_tasks=slots,
        )

    def stop(self) -> None:
        self._pgq.shutdown.set()
