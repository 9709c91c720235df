"""The `practicegen worker` process, composed: the same queue, job types and runner `serve`
builds (`app.py`), run by the job system's process loop (`jobs/process.py`).

It lives beside the composition root rather than in `jobs/`, which knows no job type.
"""

from __future__ import annotations

import structlog

from practicegen import gc_tuning
from practicegen.app import (
    create_filler,
    create_job_filler,
    create_job_types,
    create_queue,
    create_runner,
    create_store,
)
from practicegen.config import Settings
from practicegen.db import migrator
from practicegen.db.engine import create_engine, create_sessionmaker
from practicegen.items.candidates import CandidateCache
from practicegen.jobs.process import (
    StopSignals,
    consume_until_stopped,
    start_pool_server_deaf_to_stop_signals,
)
from practicegen.jobs.queue import PostgresQueue

log = structlog.get_logger()


async def run_worker(settings: Settings, *, drain_s: float) -> int:
    """The `practicegen worker` process: returns its exit status."""
    queue = create_queue(settings)
    assert isinstance(queue, PostgresQueue), "a worker process runs on PostgreSQL"
    # a job may wait for a connection as long as its heartbeat may be late: handing it back
    # to the queue after the API's short wait only makes the burst longer
    engine = create_engine(settings, pool_timeout_s=settings.job_heartbeat_timeout_s)
    sessionmaker = create_sessionmaker(engine)
    filler = create_filler(settings)
    job_filler = create_job_filler(settings, sessionmaker, filler)
    store = create_store(settings, sessionmaker, queue)
    cache = CandidateCache(max_age_s=settings.candidate_cache_s)
    types = create_job_types(settings, sessionmaker, cache, job_filler)
    signals = StopSignals()
    try:
        if settings.auto_migrate:
            applied = await migrator.upgrade(settings.database_url)
            if applied:
                log.info("db.migrated", applied=applied)
        start_pool_server_deaf_to_stop_signals()
        await filler.pool.start()  # not in the first burst of jobs' answers
        await store.open()
        runner = create_runner(settings, sessionmaker, queue, store, types)
        gc_tuning.settle()
        with signals.installed():
            return await consume_until_stopped(runner, queue, settings, signals, drain_s)
    except Exception:
        log.exception("worker.failed")
        return 1
    finally:
        await store.close()
        if job_filler is not filler:
            await job_filler.aclose()
        await filler.aclose()
        await engine.dispose()
