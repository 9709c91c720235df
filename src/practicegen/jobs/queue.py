"""The queue port and its two pgqueuer adapters: a message says "run job X", the row is the truth.
On PostgreSQL the message commits with its row; in memory (SQLite) it is handed over after."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import timedelta
from typing import Any

import psycopg
import structlog
from pgqueuer import PgQueuer
from pgqueuer.errors import RetryRequested
from pgqueuer.models import Job as QueueMessage
from pgqueuer.ports.repository import QueueRepositoryPort
from pgqueuer.queries import Queries
from psycopg import AsyncRawCursor
from psycopg.rows import dict_row
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from practicegen.db.reconnect import Backoff
from practicegen.jobs.admission import MemoryAdmission
from practicegen.jobs.lanes import TENANT_HEADER, Consume, Lane
from practicegen.jobs.pgdriver import ReconnectingDriver, said
from practicegen.jobs.worker_state import WorkerState, WorkerStatus

log = structlog.get_logger()
ENTRYPOINT = "practicegen_job"
JobHandler = Callable[[uuid.UUID], Awaitable[None]]
Send = Callable[[QueueRepositoryPort], Coroutine[Any, Any, object]]
_HAND_BACK = timedelta(seconds=1)
_HAND_OVERS = "practicegen.queue_hand_overs"


def message_of(
    lanes: Sequence[Lane], job_type: str | None, tenant_id: uuid.UUID | None
) -> tuple[str, dict[str, str] | None]:
    """The entrypoint and headers of a job's queue message: its type's lane's, else the main one."""
    lane = next((lane for lane in lanes if job_type in lane.job_types), None)
    if lane is None:
        return ENTRYPOINT, None
    return lane.entrypoint, None if tenant_id is None else {TENANT_HEADER: str(tenant_id)}


class JobQueue(ABC):
    def __init__(self, lanes: Sequence[Lane], admission: MemoryAdmission | None = None) -> None:
        """`admission`: the memory bound of the jobs' entrypoint (none: its slots alone)."""
        self.lanes = lanes
        self.admission = admission
        self.state = WorkerState()  # what this process's consumer is doing, for readiness
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
        """Queue a run of the job as part of the session's transaction (in its type's lane); in
        memory, with no transaction open, at once: the job's row is committed already."""
        entrypoint, headers = message_of(self.lanes, job_type, tenant_id)
        after = timedelta(seconds=max(delay_s, 0))
        await self._send(
            session,
            lambda queries: queries.enqueue(
                entrypoint, job_id.bytes, execute_after=after, headers=headers
            ),
        )

    @abstractmethod
    async def _send(self, session: AsyncSession, send: Send) -> None:
        """Run `send` on this adapter's queries, committed with `session`'s transaction."""

    @abstractmethod
    async def run(self, handler: JobHandler, *, concurrency: int) -> None:
        """Hand queued jobs to `handler` until `stop()`; then wait for those in flight."""

    @abstractmethod
    def stop(self) -> None: ...

    def release(self) -> None:
        """Give up the attempts in flight (after `stop`): cancel them, hand their jobs back."""
        self._released = True
        for task in list(self._running):
            task.cancel()

    def _jobs_consumer(self, handler: JobHandler) -> Consume:
        """The jobs' entrypoint: `_consumer`, behind the memory bound if there is one."""
        consume = self._consumer(handler)
        return consume if self.admission is None else self.admission.admitting(consume)

    def _consumer(self, handler: JobHandler) -> Consume:
        """`handler` as a queue entrypoint: a job the runner could not settle goes back."""

        async def consume(message: QueueMessage) -> None:
            assert message.payload is not None
            job_id = uuid.UUID(bytes=message.payload)
            task = asyncio.current_task()
            assert task is not None
            if self._released:
                raise RetryRequested(reason="worker stopping")
            self._running.add(task)
            try:
                await handler(job_id)
            except asyncio.CancelledError:
                # given up unfinished: pgqueuer would delete the message, a retry puts it back
                task.uncancel()
                log.warning("job.released", job_id=str(job_id))
                raise RetryRequested(reason="worker stopping") from None
            except Exception as exc:
                # the infrastructure failed, not the job: pgqueuer would drop the message
                log.warning("job.handed_back", job_id=str(job_id), error=said(exc))
                raise RetryRequested(delay=_HAND_BACK, reason="infrastructure error") from exc
            finally:
                self._running.discard(task)

        return consume


class _TransactionDriver:
    """pgqueuer's driver port, enough to enqueue (`fetch`), over a connection inside our
    transaction: pgqueuer's own insists on autocommit, which would commit the message apart."""

    def __init__(self, connection: psycopg.AsyncConnection[Any]) -> None:
        self._connection = connection

    async def fetch(self, query: str, *args: object) -> list[dict[str, object]]:
        cursor = AsyncRawCursor(self._connection, row_factory=dict_row)
        await cursor.execute(query, args or None)
        return await cursor.fetchall()


class PostgresQueue(JobQueue):
    """A QueueManager for the jobs and one per lane (pgqueuer bounds one manager's picked
    messages over all its entrypoints), each rebuilt after a backoff when its loop fails."""

    def __init__(
        self,
        conninfo: str,
        *,
        heartbeat_timeout_s: float,
        poll_s: float,
        lanes: Sequence[Lane] = (),
        backoff: Backoff | None = None,
        connect_timeout_s: float = 5.0,
        admission: MemoryAdmission | None = None,
    ) -> None:
        super().__init__(lanes, admission)
        self.conninfo = conninfo
        self.heartbeat_timeout = timedelta(seconds=heartbeat_timeout_s)
        self.poll = timedelta(seconds=poll_s)
        self.backoff = backoff or Backoff(0.5, 15.0)
        self.connect_timeout_s = connect_timeout_s
        self._pgqs: dict[str, PgQueuer] = {}
        self._drivers: dict[str, ReconnectingDriver] = {}
        self._connected: dict[str, bool] = {}
        self._stopping = asyncio.Event()

    async def _send(self, session: AsyncSession, send: Send) -> None:
        connection = await (await session.connection()).get_raw_connection()
        await send(Queries(_TransactionDriver(connection.driver_connection)))  # type: ignore[arg-type]

    async def run(self, handler: JobHandler, *, concurrency: int) -> None:
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._supervise(handler, concurrency, None))
                for lane in self.lanes:
                    group.create_task(self._supervise(handler, lane.concurrency, lane))
        finally:
            self.state.set(WorkerStatus.STOPPED)

    async def _supervise(self, handler: JobHandler, concurrency: int, lane: Lane | None) -> None:
        name = ENTRYPOINT if lane is None else lane.entrypoint
        backoff = dataclasses.replace(self.backoff)
        while not self._stopping.is_set():
            try:
                await self._run_once(handler, concurrency, lane, name, backoff)
            except Exception as exc:
                if self._stopping.is_set():
                    break
                self._connections_changed(name, False, backoff)
                delay = backoff.next_delay()
                log.warning("worker.queue_failed", error=said(exc), restart_in_s=delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)

    async def _run_once(
        self, handler: JobHandler, concurrency: int, lane: Lane | None, name: str, backoff: Backoff
    ) -> None:
        driver = ReconnectingDriver(
            self.conninfo,
            dataclasses.replace(backoff),  # its own count of failures
            connect_timeout_s=self.connect_timeout_s,
            on_change=lambda connected: self._connections_changed(name, connected, backoff),
        )
        pgq = PgQueuer(connection=driver)
        if lane is None:
            pgq.entrypoint(ENTRYPOINT)(self._jobs_consumer(handler))
        else:  # the lane's limit counts every worker's picked messages
            consume = lane.admitting(self._consumer(handler))
            pgq.entrypoint(name, concurrency_limit=lane.concurrency)(consume)
        self._pgqs[name], self._drivers[name] = pgq, driver
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

    def _connections_changed(self, name: str, connected: bool, backoff: Backoff) -> None:
        if connected:
            backoff.reset()  # the loop runs: its next failure waits from the start again
        self._connected[name] = connected
        if self._stopping.is_set():
            return
        up = len(self._connected) == 1 + len(self.lanes) and all(self._connected.values())
        self.state.set(WorkerStatus.RUNNING if up else WorkerStatus.RECONNECTING)

    def stop(self) -> None:
        self._stopping.set()
        for driver in self._drivers.values():
            driver.stop_waiting()
        for pgq in self._pgqs.values():
            pgq.shutdown.set()


class EmbeddedQueue(JobQueue):
    def __init__(
        self, *, lanes: Sequence[Lane] = (), admission: MemoryAdmission | None = None
    ) -> None:
        super().__init__(lanes, admission)
        self._pgq = PgQueuer.in_memory()
        self._handoffs: set[asyncio.Task[object]] = set()
        self.state.set(WorkerStatus.RUNNING)  # nothing to connect to: it takes jobs once run

    async def _send(self, session: AsyncSession, send: Send) -> None:
        if not session.in_transaction():
            self._hand_over(send)
            return
        # handed over by `_hand_over_after_commit`: one listener for every session, not one
        # registered (and its event machinery set up) per creating session
        hand_over = functools.partial(
            asyncio.get_running_loop().call_soon_threadsafe, self._hand_over, send
        )
        session.info.setdefault(_HAND_OVERS, []).append(hand_over)

    def _hand_over(self, send: Send) -> None:
        assert self._pgq.queries is not None
        task = asyncio.get_running_loop().create_task(send(self._pgq.queries))
        self._handoffs.add(task)
        task.add_done_callback(self._handoff_done)

    def _handoff_done(self, task: asyncio.Task[object]) -> None:
        self._handoffs.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("jobs.enqueue_failed", error=repr(task.exception()))

    async def run(self, handler: JobHandler, *, concurrency: int) -> None:
        # in memory one manager bounds the jobs' entrypoint and each lane's apart
        jobs = self._jobs_consumer(handler)
        self._pgq.entrypoint(ENTRYPOINT, concurrency_limit=max(2, concurrency))(jobs)
        consume = self._consumer(handler)
        for lane in self.lanes:
            limit = lane.concurrency
            self._pgq.entrypoint(lane.entrypoint, concurrency_limit=limit)(lane.admitting(consume))
        slots = max(2, concurrency) + sum(lane.concurrency for lane in self.lanes)
        try:
            await self._pgq.run(
                dequeue_timeout=timedelta(seconds=1),
                batch_size=max(1, slots // 2),
                max_concurrent_tasks=slots,
            )
        finally:
            self.state.set(WorkerStatus.STOPPED)

    def stop(self) -> None:
        self._pgq.shutdown.set()


@event.listens_for(Session, "after_commit")
def _hand_over_after_commit(session: Session) -> None:
    for hand_over in session.info.pop(_HAND_OVERS, []):
        hand_over()


@event.listens_for(Session, "after_rollback")
def _forget_hand_overs(session: Session) -> None:
    session.info.pop(_HAND_OVERS, None)  # their jobs' rows were never committed
