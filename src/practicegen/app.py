"""The composition root: builds the FastAPI app from settings and wires every adapter.

This is the one place that decides which implementations run (SQLite or PostgreSQL, which
queue, which generators); everything below receives what it needs through `app.state` and
dependencies, so tests build the same app from their own settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from practicegen import __version__
from practicegen.api import health
from practicegen.api.errors import install_error_handlers
from practicegen.api.middleware import RequestContextMiddleware
from practicegen.api.openapi import install_openapi
from practicegen.api.readiness import Readiness
from practicegen.auth import endpoints as auth_endpoints
from practicegen.auth.cache import KeyCache
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
from practicegen.generation.llm import LlmGenerator
from practicegen.generation.llm_filler import LlmBudget, LlmFiller
from practicegen.goals import endpoints as goal_endpoints
from practicegen.items import bank_changes
from practicegen.items import endpoints as item_endpoints
from practicegen.items.bank_changes import BANK_CHANNEL
from practicegen.items.candidates import CandidateCache
from practicegen.items.keys import KeyReader
from practicegen.jobs import endpoints as job_endpoints
from practicegen.jobs import streams as job_streams
from practicegen.jobs.events import (
    CHANNEL,
    JobChanges,
    deliver_notification,
    resync_watchers,
    session_info,
)
from practicegen.jobs.metrics import JobMetrics
from practicegen.jobs.pg_create import PostgresJobWriter
from practicegen.jobs.queue import EmbeddedQueue, JobQueue, PostgresQueue
from practicegen.jobs.schemas import PRACTICE_GENERATION
from practicegen.jobs.views import JobViews
from practicegen.jobs.worker import JobRunner, RetryPolicy
from practicegen.practice import endpoints as practice_endpoints
from practicegen.practice import job_view as practice_view
from practicegen.practice.assignments import GapFiller
from practicegen.practice.grader import Grader
from practicegen.practice.grading_lane import GradingLane
from practicegen.practice.tasks import practice_generation
from practicegen.students import endpoints as student_endpoints
from practicegen.tenants import endpoints as tenant_endpoints
from practicegen.web import pages as web_pages
from practicegen.webhooks import endpoints as webhook_endpoints
from practicegen.webhooks import service as webhooks
from practicegen.webhooks.service import WEBHOOK_DELIVERY, delivery_handler
from practicegen.webhooks.ssrf import AddressGuard

log = structlog.get_logger()


def create_queue(settings: Settings) -> JobQueue:
    lanes = [webhooks.delivery_lane(settings)]
    if settings.database_kind is DatabaseKind.POSTGRES:
        return PostgresQueue(
            postgres_conninfo(settings.database_url),
            heartbeat_timeout_s=settings.job_heartbeat_timeout_s,
            poll_s=settings.queue_poll_s,
            lanes=lanes,
            backoff=Backoff.from_settings(settings),
            connect_timeout_s=settings.db_connect_timeout_s,
        )
    return EmbeddedQueue(lanes=lanes)


def create_filler(settings: Settings) -> ProceduralFiller:
    return ProceduralFiller(
        workers=settings.generator_workers, timeout_s=settings.generator_timeout_s
    )


def create_check_model(settings: Settings, procedural: ProceduralFiller) -> LlmGenerator | None:
    """The second model that checks multiple-choice keys, when one is configured."""
    if settings.llm_check_model is None:
        return None
    api_key = settings.llm_check_api_key or settings.llm_api_key
    return LlmGenerator(
        base_url=settings.llm_check_base_url or str(settings.llm_base_url),
        api_key=api_key.get_secret_value(),
        model=settings.llm_check_model,
        timeout_s=settings.llm_timeout_s,
        concurrency=settings.llm_concurrency,
        response_format=settings.llm_response_format,
        sympy_pool=procedural.pool,
    )


def create_job_filler(
    settings: Settings, sessionmaker: SessionMaker, procedural: ProceduralFiller
) -> ProceduralFiller | LlmFiller:
    """What fills a job's gap: the configured language model (procedural items standing in for
    what it fails to write), else the procedural generators alone."""
    if settings.llm_base_url is None:
        return procedural
    generator = LlmGenerator(
        base_url=settings.llm_base_url,
        api_key=settings.llm_api_key.get_secret_value(),
        model=settings.llm_model,
        timeout_s=settings.llm_timeout_s,
        verify_timeout_s=settings.llm_check_timeout_s,
        check_queue_s=settings.llm_check_queue_s,
        concurrency=settings.llm_concurrency,
        attempts_per_question=settings.llm_attempts_per_question,
        response_format=settings.llm_response_format,
        self_consistency_samples=settings.llm_self_consistency_samples,
        sympy_pool=procedural.pool,
        choice_check=create_check_model(settings, procedural),
    )
    return LlmFiller(
        generator=generator,
        procedural=procedural,
        sessionmaker=sessionmaker,
        budget=LlmBudget(settings.llm_daily_token_budget, settings.llm_tokens_per_question),
        clock=lambda: datetime.now(UTC),
    )


def create_runner(
    settings: Settings,
    sessionmaker: SessionMaker,
    queue: JobQueue,
    cache: CandidateCache,
    filler: GapFiller | None,
    metrics: JobMetrics | None = None,
) -> JobRunner:
    """The job worker with every job type's handler: used by `serve` and by `worker`."""
    guard = AddressGuard(settings.ssrf_allowlist)
    handlers = {
        PRACTICE_GENERATION: practice_generation(settings, sessionmaker, filler, cache),
        WEBHOOK_DELIVERY: delivery_handler(settings, sessionmaker, guard),
    }
    policy = RetryPolicy(
        base_s=settings.job_retry_base_s,
        cap_s=settings.job_retry_cap_s,
        retention_s=settings.job_retention_s,
    )
    return JobRunner(
        sessionmaker,
        queue,
        handlers,
        policy=policy,
        heartbeat_s=settings.job_heartbeat_s,
        metrics=metrics,
        on_finished=webhooks.on_finished(queue, settings),
    )


def create_job_views() -> JobViews:
    """Each job type's result as a student token sees it (servers see results in full)."""
    views = JobViews()
    views.register(PRACTICE_GENERATION, student=practice_view.for_student)
    views.register(WEBHOOK_DELIVERY, student=None)  # a server's: its result shows the URL
    return views


@asynccontextmanager
async def worker_running(
    runner: JobRunner, queue: JobQueue, settings: Settings
) -> AsyncIterator[None]:
    """Run the queue's consumer (and the retention sweep) until the block ends, then drain."""
    async with asyncio.TaskGroup() as group:
        consumer = group.create_task(queue.run(runner.run, concurrency=settings.job_concurrency))
        sweeper = group.create_task(runner.sweep_expired(settings.job_retention_sweep_s))
        try:
            yield
        finally:
            queue.stop()
            sweeper.cancel()
            await asyncio.wait({consumer})
            await runner.heartbeats.aclose()


@asynccontextmanager
async def _background(work: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    """Run `work` while the block runs; cancel and await it on the way out."""
    task = asyncio.create_task(work)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _warm_pools(grader: Grader, filler: ProceduralFiller) -> None:
    """Start the grader's and the generators' processes while the node already answers: on a
    fresh node the first answer graded waited 1.9 s for them (the next took 11 ms). A request
    that comes first waits for the processes being started rather than starting more."""
    try:
        await asyncio.gather(grader.start(), filler.pool.start())
    except Exception:  # the first request that needs them tries again, and says why
        log.warning("pools.warm_up_failed", exc_info=True)


async def _open_job_writer(
    stack: contextlib.AsyncExitStack, settings: Settings
) -> PostgresJobWriter | None:
    """On PostgreSQL, the API's one-statement job creation, closed with `stack`.

    Its pool is as large as the SQLAlchemy pool: in a burst each creation holds its connection
    for a turn of the node's busy event loop, not just the statement's round trip, and with
    half as many connections 1,000 creations at once took 5.4-5.8 s to commit rather than 4.4.
    """
    if settings.database_kind is not DatabaseKind.POSTGRES:
        return None
    writer = PostgresJobWriter(
        postgres_conninfo(settings.database_url),
        max_connections=settings.pool_connections,
        timeout_s=settings.db_connect_timeout_s,
    )
    await writer.open()
    stack.push_async_callback(writer.close)
    return writer


def _listener(settings: Settings, hub: JobChanges, cache: CandidateCache) -> PostgresListener:
    """The node's LISTEN connection: job changes to the hub, bank changes to the cache."""
    return PostgresListener(
        postgres_conninfo(settings.database_url),
        {
            CHANNEL: functools.partial(deliver_notification, hub),
            BANK_CHANNEL: cache.bank_changed,
        },
        # anything may have changed while the node was not listening
        on_connect=[hub.notify_all, cache.signals_started],
        on_lost=[cache.signals_lost],
        backoff=Backoff.from_settings(settings),
    )


def _readiness(settings: Settings) -> Readiness:
    """What `/readyz` checks besides the database; the lifespan adds the listener and worker."""
    return Readiness(
        listener_grace_s=settings.listener_grace_s,
        needs_remote_worker=settings.database_kind is DatabaseKind.POSTGRES
        and not settings.worker_in_process,
        worker_seen_grace_s=settings.worker_seen_grace_s,
    )


async def _start_worker(
    stack: contextlib.AsyncExitStack, runner: JobRunner, queue: JobQueue, settings: Settings
) -> None:
    """Run jobs in this process; embedded, first queue again what a restart left unfinished."""
    await stack.enter_async_context(worker_running(runner, queue, settings))
    if isinstance(queue, EmbeddedQueue):
        requeued = await runner.requeue_unfinished()
        log.info("jobs.requeued_at_start", count=requeued)


def _grading(app: FastAPI, stack: contextlib.AsyncExitStack, settings: Settings) -> Grader:
    """The node's grading processes and the fair lane in front of them."""
    grader = Grader(
        workers=settings.grader_workers,
        timeout_s=settings.grader_timeout_s,
        max_answer_length=settings.max_answer_length,
        max_answer_weight=settings.answer_max_weight,
    )
    stack.push_async_callback(grader.aclose)
    app.state.grader = grader
    app.state.grading_lane = GradingLane(
        grader,
        slots=settings.grading_queue_slots,
        tenant_share=settings.grading_tenant_share,
        student_share=settings.grading_student_share,
    )
    return grader


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Builds every adapter from the app's settings, runs the node's background work, and
    closes it all in reverse order on shutdown."""
    settings: Settings = app.state.settings
    if settings.auth is AuthMode.OFF:
        log.warning("auth.disabled", detail="PRACTICEGEN_AUTH=off: every caller is admin")
    engine = create_engine(settings)
    hub = JobChanges()
    cache = CandidateCache(max_age_s=settings.candidate_cache_s)
    sessionmaker = create_sessionmaker(
        engine, info={**session_info(hub), **bank_changes.session_info(cache)}
    )
    app.state.job_changes = hub
    app.state.key_cache = KeyCache(settings.auth_cache_s)
    queue = create_queue(settings)
    app.state.sessionmaker = sessionmaker
    app.state.reading_sessionmaker = autocommit_sessionmaker(sessionmaker)
    filler = create_filler(settings)
    job_filler = create_job_filler(settings, sessionmaker, filler)
    app.state.queue = queue
    app.state.on_job_finished = webhooks.on_finished(queue, settings)
    metrics = JobMetrics()
    metrics.watch_lanes(queue.lanes)
    app.state.metrics = metrics
    app.state.readiness = readiness = _readiness(settings)
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(engine.dispose)
        grader = _grading(app, stack, settings)
        stack.push_async_callback(filler.aclose)
        if job_filler is not filler:
            stack.push_async_callback(job_filler.aclose)
        app.state.key_reader = KeyReader(filler.pool, timeout_s=settings.generator_timeout_s)
        app.state.practice_node = practice_endpoints.Node(
            settings=settings,
            sessionmaker=sessionmaker,
            filler=filler,
            job_filler=job_filler,
            cache=cache,
            queue=queue,
            writer=await _open_job_writer(stack, settings),
            guard=AddressGuard(settings.ssrf_allowlist),
        )
        if settings.database_kind is DatabaseKind.POSTGRES:
            listener = _listener(settings, hub, cache)
            await stack.enter_async_context(_background(listener.run()))
            readiness.listener = listener
        resync = resync_watchers(hub, sessionmaker, settings.stream_resync_s)
        await stack.enter_async_context(_background(resync))
        if settings.pools_at_start:
            await stack.enter_async_context(_background(_warm_pools(grader, filler)))
        if settings.worker_in_process:
            runner = create_runner(settings, sessionmaker, queue, cache, job_filler, metrics)
            await _start_worker(stack, runner, queue, settings)
            readiness.worker = queue.state
        yield


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(
        title="practicegen",
        version=__version__,
        summary="Assigns practice to students and generates, verified, what the bank lacks.",
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.job_views = create_job_views()
    install_error_handlers(app)
    _install_routes(app, settings)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes)
    return app


def _install_routes(app: FastAPI, settings: Settings) -> None:
    """Every router, the OpenAPI document that describes them, and CORS when configured."""
    # A request's route is found by trying each route in turn: the busiest come first.
    for router in (
        practice_endpoints.router,
        job_endpoints.router,
        job_streams.router,
        health.router,
        auth_endpoints.router,
        student_endpoints.router,
        goal_endpoints.router,
        item_endpoints.router,
        job_endpoints.metrics_router,
        webhook_endpoints.router,
        tenant_endpoints.router,
        web_pages.router,
    ):
        app.include_router(router)
    install_openapi(app, settings)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=[
                "Location",
                "Retry-After",
                "ETag",
                "X-Request-ID",
                "Idempotent-Replayed",
            ],
        )
