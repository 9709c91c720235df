"""A job worker as its own process (`practicegen worker`): start, consume, drain, stop.

In distributed mode the API nodes only create jobs; any number of these processes, on any
machine, consume the PostgreSQL queue. Each builds the same runner `serve` would run in process
(`create_runner`, `worker_running`), so a job behaves the same wherever it runs.

Stopping is what needs care, because deploys stop workers all the time:

- The first SIGTERM or SIGINT stops dequeueing. Attempts already running keep their heartbeats
  and finish normally, for up to the grace period (`--drain-seconds`). When the last one ends
  the process exits 0.
- When the grace runs out (or a second signal arrives) the attempts still running are
  cancelled and released: they have written nothing (an attempt's result commits only with its
  completion), their queue messages go back to the queue, and their job rows stay `processing`
  until another worker claims them with a new attempt number, which fences the old one out.
  The process still exits 0: it stopped as asked and no job is lost.
- A lost database connection is no reason to stop: the queue reopens its connections and
  rebuilds its consumer (`queue.PostgresQueue`), and the process runs on. A stop while the
  database is away ends the queue's wait for it at once.
- Should releasing hang (the database gone), the process leaves at once with status 1.
  The messages then stay picked with a heartbeat that no longer moves, and another worker
  re-picks them after `job_heartbeat_timeout_s`, exactly as after a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing.forkserver
import os
import signal
from collections.abc import Iterator

import structlog

from practicegen import gc_tuning
from practicegen.app import (
    create_filler,
    create_job_filler,
    create_queue,
    create_runner,
    worker_running,
)
from practicegen.config import Settings
from practicegen.db import migrator
from practicegen.db.engine import create_engine, create_sessionmaker
from practicegen.items.candidates import CandidateCache
from practicegen.jobs.queue import JobQueue, PostgresQueue
from practicegen.jobs.worker import JobRunner

log = structlog.get_logger()

RELEASE_S = 10.0
"""How long cancelled attempts get to hand their messages back before the process just exits."""


class StopSignals:
    """SIGTERM and SIGINT as events: the first asks for a drain, the next one cuts it short."""

    def __init__(self) -> None:
        self.drain = asyncio.Event()
        self.hurry = asyncio.Event()

    def received(self, signum: int) -> None:
        name = signal.Signals(signum).name
        if not self.drain.is_set():
            log.info("worker.stop_requested", signal=name)
            self.drain.set()
        else:
            log.warning("worker.stop_hurried", signal=name)
            self.hurry.set()

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.received, signum)
        try:
            yield
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)


async def _first(task: asyncio.Task[None], event: asyncio.Event, limit_s: float | None) -> bool:
    """Wait until `task` ends, `event` is set or `limit_s` passes; True if the task ended."""
    waiter = asyncio.create_task(event.wait())
    try:
        await asyncio.wait({task, waiter}, timeout=limit_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
    return task.done()


async def _consume(
    runner: JobRunner, queue: JobQueue, settings: Settings, until: asyncio.Event
) -> None:
    async with worker_running(runner, queue, settings):
        log.info(
            "worker.started",
            concurrency=settings.job_concurrency,
            heartbeat_timeout_s=settings.job_heartbeat_timeout_s,
        )
        await until.wait()
    # leaving the block stopped the dequeueing and waited for the attempts in flight


async def consume_until_stopped(
    runner: JobRunner,
    queue: PostgresQueue,
    settings: Settings,
    signals: StopSignals,
    drain_s: float,
) -> int:
    """Run the consumer until a stop signal, drain, release what is left; the exit status."""
    consumer = asyncio.create_task(_consume(runner, queue, settings, signals.drain))
    if await _first(consumer, signals.drain, None):
        # the consumer failed: not a lost database connection, which the queue reopens
        consumer.result()
        log.error("worker.consumer_ended")
        return 1
    log.info("worker.draining", grace_s=drain_s)
    drained = await _first(consumer, signals.hurry, drain_s)
    if not drained:
        log.warning("worker.releasing", hurried=signals.hurry.is_set())
        queue.release()
        finished, _ = await asyncio.wait({consumer}, timeout=RELEASE_S)
        if not finished:
            log.error("worker.release_timed_out", after_s=RELEASE_S)
            logging.shutdown()
            os._exit(1)  # the queue's heartbeat timeout hands the jobs to another worker
    consumer.result()
    log.info("worker.stopped", drained=drained)
    return 0


def _start_pool_server_deaf_to_stop_signals() -> None:
    """Start the generator pool's fork server ignoring SIGINT and SIGTERM; its children inherit it.

    A stop signal sent to the whole process group (Ctrl-C in a terminal, a supervisor that
    signals every process of the service) must reach only this process, which drains. Pool
    processes killed by it would fail the very attempts the drain is waiting for. The pool
    processes still end with this one: they exit when it closes their pipes.
    """
    previous = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


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
    signals = StopSignals()
    try:
        if settings.auto_migrate:
            applied = await migrator.upgrade(settings.database_url)
            if applied:
                log.info("db.migrated", applied=applied)
        _start_pool_server_deaf_to_stop_signals()
        await filler.pool.start()  # not in the first burst of jobs' answers
        runner = create_runner(
            settings,
            sessionmaker,
            queue,
            CandidateCache(max_age_s=settings.candidate_cache_s),
            job_filler,
        )
        gc_tuning.settle()
        with signals.installed():
            return await consume_until_stopped(runner, queue, settings, signals, drain_s)
    except Exception:
        log.exception("worker.failed")
        return 1
    finally:
        if job_filler is not filler:
            await job_filler.aclose()
        await filler.aclose()
        await engine.dispose()
