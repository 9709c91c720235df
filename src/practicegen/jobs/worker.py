"""Running one job attempt: its writes commit with the terminal state, fenced by the attempt
number; `InvalidRequest` and `NotFound` fail the job at once, other errors retry with backoff."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen import tracing
from practicegen.clock import Clock
from practicegen.db.engine import SessionMaker, autocommit_sessionmaker
from practicegen.db.models import Job
from practicegen.errors import InvalidRequest, NotFound, PracticegenError
from practicegen.jobs.heartbeat import Heartbeats
from practicegen.jobs.metrics import JobMetrics
from practicegen.jobs.pgdriver import said
from practicegen.jobs.queue import JobQueue
from practicegen.jobs.registry import JobTypes, Progress, Writer
from practicegen.jobs.repository import JobRepository
from practicegen.jobs.store import JobStore

log = structlog.get_logger()


class AttemptLost(Exception):
    """This attempt no longer owns its job: it was cancelled or re-picked elsewhere."""


class RetryLater(Exception):
    """A transient failure whose handler knows when to try again (e.g. a webhook schedule)."""

    def __init__(self, message: str, delay_s: float) -> None:
        super().__init__(message)
        self.delay_s = delay_s


OnFinished = Callable[[AsyncSession, Job], Awaitable[None]]
"""Called in the transaction that moves a job to a terminal state (webhooks hook in here)."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base_s: float = 2.0
    cap_s: float = 300.0
    retention_s: float = 7 * 24 * 3600

    def backoff(self, attempt: int, rng: random.Random) -> float:
        exponential: float = self.base_s * 2.0 ** max(attempt - 1, 0)
        return min(self.cap_s, exponential) * rng.uniform(0.5, 1.5)

    def ended(self, now: datetime) -> dict[str, datetime]:
        """The columns of a job that ends `now`: when, and when its result is dropped."""
        return {"finished_at": now, "expires_at": now + timedelta(seconds=self.retention_s)}


def _said_if_failed(storing: asyncio.Future[None]) -> None:
    """A completion whose attempt was cancelled failed to store: the job's heartbeat lapses and
    another attempt runs it; this says why."""
    error = None if storing.cancelled() else storing.exception()
    if error is not None:
        log.warning("job.completion_failed", error=said(error))


class JobRunner:
    def __init__(
        self,
        sessionmaker: SessionMaker,
        queue: JobQueue,
        types: JobTypes,
        store: JobStore,
        *,
        policy: RetryPolicy,
        heartbeat_s: float,
        clock: Clock,
        on_finished: OnFinished,
        metrics: JobMetrics | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.queue = queue
        self.types = types
        self.store = store
        self.policy = policy
        self.clock = clock
        self.metrics = metrics or JobMetrics()
        self.on_finished = on_finished
        self.rng = random.Random()
        # beats commit alone, so the rows one locks are not held while a job ending waits
        self.heartbeats = Heartbeats(
            autocommit_sessionmaker(sessionmaker), store.writes, interval_s=heartbeat_s, clock=clock
        )

    async def run(self, job_id: uuid.UUID) -> None:
        """Run one attempt of the job, if it still wants running."""
        if (job := await self.store.claims.claim(job_id)) is None:
            return
        attributes: dict[str, str | int] = {
            "job.id": str(job.id),
            "job.type": job.job_type,
            "job.attempt": job.attempt,
            "tenant.id": str(job.tenant_id),
        }
        with (
            structlog.contextvars.bound_contextvars(job_id=str(job_id), attempt=job.attempt),
            tracing.consumer_span(f"job {job.job_type}", job.traceparent, attributes),
        ):
            log.info("job.started", job_type=job.job_type)
            work = asyncio.create_task(self._attempt(job))
            self.heartbeats.hold((job.id, job.attempt), work)
            started = time.perf_counter()
            try:
                await work
            except (AttemptLost, asyncio.CancelledError) as exc:
                current = asyncio.current_task()
                if isinstance(exc, asyncio.CancelledError) and current and current.cancelling():
                    raise  # this worker is shutting down; the job stays live for a later attempt
                self.metrics.finished.labels(outcome="lost").inc()
                log.info("job.attempt_lost")
            finally:
                self.metrics.run_time.observe(time.perf_counter() - started)
                self.heartbeats.release((job.id, job.attempt))

    async def _attempt(self, job: Job) -> None:
        handler = self.types.handler(job.job_type)
        try:
            if handler is None:
                raise InvalidRequest(f"No handler for job type {job.job_type!r}.")
            write = await handler(job, self._progress_for(job))
            # shielded: an attempt cut off as its COMMIT lands still says the job completed
            storing = asyncio.ensure_future(self._store_completion(job, write))
            try:
                await asyncio.shield(storing)
            except asyncio.CancelledError:
                storing.add_done_callback(_said_if_failed)  # nobody awaits it now
                raise
        except (AttemptLost, asyncio.CancelledError):
            raise
        except Exception as exc:  # every failure becomes the job's outcome, never a lost job
            await self._failed(job, exc)

    async def _store_completion(self, job: Job, write: Writer) -> None:
        async with self.sessionmaker() as session:
            async with session.begin():
                result = await write(session)
                now = self.clock()
                values = {
                    "status": "completed",
                    "result": result,
                    "progress_percent": 100,
                    "progress_message": "Completed.",
                    "error": None,
                    "error_code": None,
                    **self.policy.ended(now),
                }
                repo = JobRepository(session, self.store.writes)
                if (done := await repo.finish(job.id, job.attempt, values, now)) is None:
                    raise AttemptLost()
                await self.on_finished(session, done)
            # said once committed: a process killed before its commit completed nothing
            self.metrics.finished.labels(outcome="completed").inc()
            log.info("job.completed")

    async def _failed(self, job: Job, exc: Exception) -> None:
        tracing.failed(exc)
        permanent = isinstance(exc, (InvalidRequest, NotFound))
        error = (
            {"error": exc.message, "error_code": exc.code}
            if isinstance(exc, PracticegenError)
            else {"error": said(exc), "error_code": "internal_error"}
        )
        message = error["error"]
        now = self.clock()
        outcome: tuple[str, dict[str, Any]] | None = None  # told once committed
        async with self.sessionmaker() as session, session.begin():
            repo = JobRepository(session, self.store.writes)
            if permanent or job.attempt >= job.max_attempts:
                values = {"status": "failed", **error, **self.policy.ended(now)}
                if (failed := await repo.finish(job.id, job.attempt, values, now)) is not None:
                    await self.on_finished(session, failed)
                    outcome = ("failed", {"error": message, "permanent": permanent})
            else:
                delay = (
                    exc.delay_s
                    if isinstance(exc, RetryLater)
                    else self.policy.backoff(job.attempt, self.rng)
                )
                values = {
                    "status": "pending",
                    **error,
                    "run_after": now + timedelta(seconds=delay),
                    "progress_message": f"Retrying after an error (attempt {job.attempt} of "
                    f"{job.max_attempts})...",
                }
                if await repo.finish(job.id, job.attempt, values, now) is not None:
                    await self.queue.enqueue(
                        session,
                        job.id,
                        delay_s=delay,
                        job_type=job.job_type,
                        tenant_id=job.tenant_id,
                    )
                    outcome = ("retry_scheduled", {"error": message, "delay_s": round(delay, 2)})
        if outcome is not None:
            self.metrics.finished.labels(outcome=outcome[0]).inc()
            log.warning(f"job.{outcome[0]}", **outcome[1])

    def _progress_for(self, job: Job) -> Progress:
        attempt = (job.id, job.attempt)

        async def progress(percent: int, message: str) -> None:
            if not self.heartbeats.report(attempt, max(0, min(percent, 99)), message):
                raise AttemptLost()

        return progress

    async def requeue_unfinished(self) -> int:
        """Queue every pending or processing job again (embedded mode, at start-up)."""
        async with self.sessionmaker() as session, session.begin():
            jobs = await JobRepository(session).unfinished()
            for job_id, job_type, tenant_id in jobs:
                await self.queue.enqueue(session, job_id, job_type=job_type, tenant_id=tenant_id)
        return len(jobs)

    async def sweep_expired(self, every_s: float) -> None:
        """Drop the results of jobs past their retention, every `every_s` seconds."""
        while True:
            try:
                async with self.sessionmaker() as session, session.begin():
                    dropped = await JobRepository(session).expire_results(self.clock())
                if dropped:
                    log.info("jobs.results_expired", count=dropped)
            except Exception:  # a database hiccup must not stop the worker; try next round
                log.exception("jobs.sweep_failed")
            await asyncio.sleep(every_s)
