"""The `practicegen worker` process: the queue, job types and runner `serve` builds (`app.py`),
run by the job system's process loop; beside the composition root because `jobs/` knows no
job type. The job system's modules load once the database is known to be PostgreSQL."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import structlog

from practicegen.config import DatabaseKind, Settings
from practicegen.errors import InvalidRequest

if TYPE_CHECKING:
    from practicegen.jobs.queue import PostgresQueue

log = structlog.get_logger()


async def run_worker(settings: Settings, *, drain_s: float) -> int:
    """The `practicegen worker` process: returns its exit status. `InvalidRequest` on a
    database other than PostgreSQL, before anything starts."""
    if settings.database_kind is not DatabaseKind.POSTGRES:
        raise InvalidRequest(
            "`practicegen worker` needs PostgreSQL (PRACTICEGEN_DATABASE_URL=postgresql://...)."
            " On the embedded SQLite default, `practicegen serve` runs every job itself."
        )
    from practicegen.app import create_queue
    from practicegen.jobs.queue import PostgresQueue

    queue = create_queue(settings)
    assert isinstance(queue, PostgresQueue)  # as create_queue chooses for PostgreSQL
    try:
        async with contextlib.AsyncExitStack() as stack:
            return await _consume(stack, settings, queue, drain_s)
    except Exception:
        log.exception("worker.failed")
        return 1


async def _consume(
    stack: contextlib.AsyncExitStack, settings: Settings, queue: PostgresQueue, drain_s: float
) -> int:
    from practicegen import gc_tuning
    from practicegen.app import create_job_types, create_runner, open_store
    from practicegen.db import migrator
    from practicegen.db.engine import create_engine, create_sessionmaker
    from practicegen.generation.setup import fillers
    from practicegen.items.candidates import CandidateCache
    from practicegen.jobs.process import (
        StopSignals,
        consume_until_stopped,
        start_pool_server_deaf_to_stop_signals,
        worker_metrics,
    )

    # a job may wait for a connection as long as its heartbeat may be late: handing it back
    # to the queue after the API's short wait only makes the burst longer
    engine = create_engine(settings, pool_timeout_s=settings.job_heartbeat_timeout_s)
    stack.push_async_callback(engine.dispose)
    sessionmaker = create_sessionmaker(engine)
    filler, job_filler = fillers(stack, settings, sessionmaker)
    cache = CandidateCache(max_age_s=settings.candidate_cache_s)
    types = create_job_types(settings, sessionmaker, cache, job_filler)
    if settings.auto_migrate and (
        applied := await migrator.upgrade(
            settings.database_url, connect_timeout_s=settings.db_connect_timeout_s
        )
    ):
        log.info("db.migrated", applied=applied)
    start_pool_server_deaf_to_stop_signals()
    await filler.pool.start()  # not in the first burst of jobs' answers
    store = await open_store(stack, settings, sessionmaker, queue)
    metrics = stack.enter_context(worker_metrics(settings, queue))
    runner = create_runner(settings, sessionmaker, queue, store, types, metrics)
    gc_tuning.settle()
    signals = StopSignals()
    with signals.installed():
        return await consume_until_stopped(runner, queue, settings, signals, drain_s)
