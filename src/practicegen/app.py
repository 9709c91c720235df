"""The composition root: builds the FastAPI app from settings and wires every adapter.

The one place that decides which implementations run (SQLite or PostgreSQL, which queue, which
generators); everything below receives its parts through the node's `Container`, so tests
build the same app from their own settings. The HTTP edge (FastAPI, the routes) loads in
`create_app`: `practicegen worker` builds its job system here without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import structlog

from practicegen import __version__, tracing
from practicegen.api.container import Container, NodeState, parts_of
from practicegen.auth.cache import KeyCache
from practicegen.batches.tasks import batch_job_type, batch_lane
from practicegen.catalog.generators import generator_spellings
from practicegen.clock import Clock, utcnow
from practicegen.config import AuthMode, DatabaseKind, Settings
from practicegen.db.engine import (
    SessionMaker,
    autocommit_sessionmaker,
    create_engine,
    create_sessionmaker,
)
from practicegen.db.listener import PostgresListener
from practicegen.db.migrator import postgres_conninfo
from practicegen.db.reconnect import Backoff
from practicegen.generation.filler import ProceduralFiller
from practicegen.generation.setup import fillers
from practicegen.grading.grader import Grader, GraderUnavailable
from practicegen.grading.sympy_pool import SympyPool
from practicegen.health.readiness import Readiness
from practicegen.items import bank_changes
from practicegen.items.bank_changes import BANK_CHANNEL
from practicegen.items.candidates import CandidateCache
from practicegen.items.keys import KeyReader
from practicegen.jobs import presence
from practicegen.jobs.admission import MemoryAdmission
from practicegen.jobs.events import CHANNEL, JobChanges, deliver_notification, session_info
from practicegen.jobs.followers import FollowerReads
from practicegen.jobs.metrics import JobMetrics
from practicegen.jobs.parts import JobParts
from practicegen.jobs.pg_store import PostgresJobStore
from practicegen.jobs.process import worker_running
from practicegen.jobs.queue import EmbeddedQueue, JobQueue, PostgresQueue
from practicegen.jobs.registry import JobTypes
from practicegen.jobs.sqlite_store import SqliteJobStore
from practicegen.jobs.store import JobStore
from practicegen.jobs.worker import JobRunner, RetryPolicy
from practicegen.ports import GapFiller
from practicegen.practice.grading_lane import GradingLane
from practicegen.practice.parts import PracticeParts
from practicegen.practice.tasks import practice_job_type
from practicegen.webhooks import service as webhooks
from practicegen.webhooks.ssrf import AddressGuard

if TYPE_CHECKING:
    from fastapi import FastAPI

log = structlog.get_logger()


def create_queue(settings: Settings) -> JobQueue:
    lanes = [webhooks.delivery_lane(settings), batch_lane(settings)]
    admission = MemoryAdmission(settings.job_memory_mb << 20, settings.job_memory_defer_s)
    if settings.database_kind is DatabaseKind.POSTGRES:
        return PostgresQueue(
            postgres_conninfo(settings.database_url),
            heartbeat_timeout_s=settings.job_heartbeat_timeout_s,
            poll_s=settings.queue_poll_s,
            lanes=lanes,
            backoff=Backoff.from_settings(settings),
            connect_timeout_s=settings.db_connect_timeout_s,
            admission=admission,
        )
    return EmbeddedQueue(lanes=lanes, admission=admission)


async def open_store(
    stack: contextlib.AsyncExitStack,
    settings: Settings,
    sessionmaker: SessionMaker,
    queue: JobQueue,
    clock: Clock = utcnow,
) -> JobStore:
    """The job store of the configured database, open until `stack` closes. Its pool is the
    SQLAlchemy pool's size: in a burst a creation holds a connection for a loop's turn."""
    store: JobStore
    if isinstance(queue, PostgresQueue):
        store = PostgresJobStore(
            postgres_conninfo(settings.database_url),
            sessionmaker,
            lanes=queue.lanes,
            clock=clock,
            max_connections=settings.pool_connections,
            timeout_s=settings.db_pool_wait_s,
            connect_timeout_s=settings.db_connect_timeout_s,
            ping_idle_s=settings.db_ping_idle_s,
        )
    elif isinstance(queue, EmbeddedQueue):
        store = SqliteJobStore(sessionmaker, queue, clock)
    else:
        raise TypeError(f"no job store for a {type(queue).__name__}")
    await store.open()
    stack.push_async_callback(store.close)
    return store


def create_job_types(
    settings: Settings,
    sessionmaker: SessionMaker,
    cache: CandidateCache,
    filler: GapFiller | None,
    clock: Clock = utcnow,
) -> JobTypes:
    """Every job type: its handler, its webhook events and its result as a student sees it."""
    guard = AddressGuard(settings.ssrf_allowlist)
    return JobTypes(
        (
            practice_job_type(settings, sessionmaker, filler, cache, clock),
            webhooks.delivery_job_type(settings, sessionmaker, guard, clock),
            batch_job_type(settings, sessionmaker),
        )
    )


def create_runner(
    settings: Settings,
    sessionmaker: SessionMaker,
    queue: JobQueue,
    store: JobStore,
    types: JobTypes,
    metrics: JobMetrics | None = None,
    clock: Clock = utcnow,
) -> JobRunner:
    """The job worker: used by `serve` and by `worker`."""
    policy = RetryPolicy(
        base_s=settings.job_retry_base_s,
        cap_s=settings.job_retry_cap_s,
        retention_s=settings.job_retention_s,
    )
    return JobRunner(
        sessionmaker,
        queue,
        types,
        store,
        policy=policy,
        heartbeat_s=settings.job_heartbeat_s,
        clock=clock,
        metrics=metrics,
        on_finished=webhooks.on_finished(store, types, settings, clock),
    )


@asynccontextmanager
async def _background(work: Coroutine[Any, Any, None]) -> AsyncIterator[asyncio.Task[None]]:
    """Run `work` while the block runs; cancel and await it on the way out."""
    task = asyncio.create_task(work)
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _warm_pools(grader: Grader, generation: SympyPool | None) -> None:
    """Start the grading processes, and the generators' if the node runs jobs, before `/readyz`
    says ready, so the first answer finds them warm. An API node whose jobs run elsewhere forks
    its generators from the running fork server at first use, which costs little."""
    try:
        await asyncio.gather(grader.start(), *([generation.start()] if generation else []))
    except Exception:  # the first request that needs them tries again, and says why
        log.warning("pools.warm_up_failed", exc_info=True)


def _listener(settings: Settings, hub: JobChanges, cache: CandidateCache) -> PostgresListener:
    """The node's LISTEN connection: job changes to the hub, bank changes to the cache."""
    return PostgresListener(
        postgres_conninfo(settings.database_url),
        {CHANNEL: functools.partial(deliver_notification, hub), BANK_CHANNEL: cache.bank_changed},
        # anything may have changed while the node was not listening
        on_connect=[hub.notify_all, cache.signals_started],
        on_lost=[cache.signals_lost],
        backoff=Backoff.from_settings(settings),
    )


def _grading(stack: contextlib.AsyncExitStack, settings: Settings) -> tuple[Grader, GradingLane]:
    """The node's grading processes and the fair lane in front of them."""
    grader = Grader(
        workers=settings.grader_workers,
        timeout_s=settings.grader_timeout_s,
        max_answer_length=settings.max_answer_length,
        max_answer_weight=settings.answer_max_weight,
    )
    stack.push_async_callback(grader.aclose)
    lane = GradingLane(
        grader,
        slots=settings.grading_queue_slots,
        tenant_share=settings.grading_tenant_share,
        student_share=settings.grading_student_share,
    )
    return grader, lane


async def _job_parts(
    stack: contextlib.AsyncExitStack,
    settings: Settings,
    sessionmaker: SessionMaker,
    hub: JobChanges,
    types: JobTypes,
    clock: Clock,
) -> JobParts:
    """The node's queue, job store (closed with `stack`), job types and job metrics."""
    queue = create_queue(settings)
    store = await open_store(stack, settings, sessionmaker, queue, clock)
    metrics = JobMetrics()
    metrics.watch_lanes(queue.lanes, queue.admission, settings.job_concurrency)
    hub.reads = FollowerReads(autocommit_sessionmaker(sessionmaker))
    stack.push_async_callback(hub.aclose)
    return JobParts(
        queue=queue,
        changes=hub,
        reads=hub.reads,
        store=store,
        types=types,
        metrics=metrics,
        on_finished=webhooks.on_finished(store, types, settings, clock),
    )


async def _run_background(
    stack: contextlib.AsyncExitStack,
    container: Container,
    cache: CandidateCache,
    filler: ProceduralFiller,
) -> None:
    """The node's work besides requests: LISTEN, warm pools, its worker."""
    settings, sessionmaker = container.settings, container.sessionmaker
    jobs, readiness = container.part(JobParts), container.part(Readiness)
    if settings.database_kind is DatabaseKind.POSTGRES:
        listener = _listener(settings, jobs.changes, cache)
        await stack.enter_async_context(_background(listener.run()))
        readiness.listener = listener
    if settings.pools_at_start:
        generation = filler.pool if settings.worker_in_process else None
        warming = _warm_pools(container.part(Grader), generation)
        readiness.warming_up = await stack.enter_async_context(_background(warming))
    if readiness.needs_remote_worker:
        seen = presence.warn_if_none_seen(sessionmaker, stale_s=settings.worker_stale_s)
        await stack.enter_async_context(_background(seen))
    if settings.worker_in_process:
        queue = jobs.queue
        runner = create_runner(
            settings, sessionmaker, queue, jobs.store, jobs.types, jobs.metrics, container.clock
        )
        await stack.enter_async_context(worker_running(runner, queue, settings))
        if isinstance(queue, EmbeddedQueue):  # what a restart left unfinished runs again
            log.info("jobs.requeued_at_start", count=await runner.requeue_unfinished())
        readiness.worker = queue.state


@asynccontextmanager
async def _running(settings: Settings, clock: Clock) -> AsyncIterator[NodeState]:
    """Builds every adapter from the settings into the node's container, runs the node's
    background work, and closes it all in reverse order on shutdown."""
    if settings.auth is AuthMode.OFF:
        log.warning("auth.disabled", detail="PRACTICEGEN_AUTH=off: every caller is admin")
    async with contextlib.AsyncExitStack() as stack:
        engine = create_engine(settings)
        stack.push_async_callback(engine.dispose)
        hub = JobChanges(max_watches=settings.max_followers)
        cache = CandidateCache(max_age_s=settings.candidate_cache_s)
        info = {**session_info(hub), **bank_changes.session_info(cache)}
        sessionmaker = create_sessionmaker(engine, info=info)
        grader, lane = _grading(stack, settings)
        filler, job_filler = fillers(stack, settings, sessionmaker, clock)
        types = create_job_types(settings, sessionmaker, cache, job_filler, clock)
        jobs = await _job_parts(stack, settings, sessionmaker, hub, types, clock)
        practice = PracticeParts(
            filler=filler,
            job_filler=job_filler,
            cache=cache,
            store=jobs.store,
            guard=AddressGuard(settings.ssrf_allowlist),
        )
        container = Container(
            settings=settings,
            sessionmaker=sessionmaker,
            reading_sessionmaker=autocommit_sessionmaker(sessionmaker),
            clock=clock,
            parts=parts_of(
                KeyCache(settings.auth_cache_s),
                Readiness(
                    listener_grace_s=settings.listener_grace_s,
                    needs_remote_worker=settings.database_kind is DatabaseKind.POSTGRES
                    and not settings.worker_in_process,
                    worker_seen_grace_s=settings.worker_seen_grace_s,
                ),
                jobs,
                grader,
                lane,
                practice,
                KeyReader(filler.pool, timeout_s=settings.generator_timeout_s),
                generator_spellings(),
            ),
        )
        await _run_background(stack, container, cache, filler)
        yield {"container": container}


def create_app(settings: Settings, clock: Clock = utcnow) -> FastAPI:
    """The app for `settings`; `clock` is the wall clock every part reads the time from."""
    from fastapi import FastAPI

    from practicegen.api.errors import install_error_handlers
    from practicegen.api.middleware import RequestContextMiddleware
    from practicegen.routes import install_routes

    app = FastAPI(
        title="practicegen",
        version=__version__,
        summary="Assigns practice to students and generates, verified, what the bank lacks.",
        docs_url=None,  # served from the package's assets instead (`web/api_docs.py`)
        redoc_url=None,
        lifespan=lambda _app: _running(settings, clock),
        telemetry=tracing.fastapi_telemetry(),
    )
    install_error_handlers(app, processes_unavailable=(GraderUnavailable,))
    install_routes(app, settings)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes)
    return app
