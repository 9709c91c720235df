"""Running a job worker: the first SIGTERM or SIGINT drains attempts for `--drain-seconds`; then
(or at a second signal) those left are cancelled and their messages handed back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing.forkserver
import os
import resource
import signal
from collections.abc import AsyncIterator, Iterator

import structlog
from prometheus_client import CollectorRegistry, start_http_server

from practicegen.config import Settings
from practicegen.jobs.metrics import JobMetrics
from practicegen.jobs.presence import Presence
from practicegen.jobs.queue import ENTRYPOINT, JobQueue, PostgresQueue
from practicegen.jobs.worker import JobRunner

log = structlog.get_logger()

_STOPS = (signal.SIGTERM, signal.SIGINT)
RELEASE_S = 10.0  # for cancelled attempts to hand their messages back before the process exits
_SPARE_FILES = 256  # listeners, the sympy pool's pipes, logs, an API node's clients


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
        for signum in _STOPS:
            loop.add_signal_handler(signum, self.received, signum)
        try:
            yield
        finally:
            for signum in _STOPS:
                loop.remove_signal_handler(signum)


def open_files_for(settings: Settings) -> int:
    """Raise the soft limit of open files towards what the slots may need; the limit now."""
    needed = settings.llm_concurrency + 2 * settings.pool_connections + _SPARE_FILES
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        soft = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    if soft != resource.RLIM_INFINITY and soft < needed:
        log.warning("worker.open_files_limited", limit=soft, needed=needed)
    return soft


@contextlib.contextmanager
def worker_metrics(settings: Settings, queue: JobQueue) -> Iterator[JobMetrics]:
    """A worker's own job metrics, served on `PRACTICEGEN_WORKER_METRICS_PORT` if set."""
    metrics = JobMetrics()
    metrics.watch_lanes(queue.lanes, queue.admission, settings.job_concurrency)
    if settings.worker_metrics_port is None:
        yield metrics
        return
    own = CollectorRegistry()
    for collector in (metrics, metrics.finished, metrics.run_time):
        own.register(collector)
    server, _thread = start_http_server(settings.worker_metrics_port, registry=own)
    log.info("worker.metrics_served", port=settings.worker_metrics_port)
    try:
        yield metrics
    finally:
        server.shutdown()
        server.server_close()


@contextlib.asynccontextmanager
async def worker_running(
    runner: JobRunner, queue: JobQueue, settings: Settings
) -> AsyncIterator[None]:
    """Consume (and sweep expired results) until the block ends, then drain; seen in `workers`."""
    presence = Presence(
        runner.sessionmaker,
        concurrency=settings.job_concurrency,
        lanes={ENTRYPOINT: settings.job_concurrency}
        | {lane.entrypoint: lane.concurrency for lane in queue.lanes},
        interval_s=settings.worker_heartbeat_s,
        forget_s=settings.worker_forget_s,
    )
    open_files_for(settings)
    async with presence.registered(), asyncio.TaskGroup() as group:
        consumer = group.create_task(queue.run(runner.run, concurrency=settings.job_concurrency))
        sweeper = group.create_task(runner.sweep_expired(settings.job_retention_sweep_s))
        try:
            yield
        finally:
            queue.stop()
            sweeper.cancel()
            await asyncio.wait({consumer})
            await runner.heartbeats.aclose()


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
    if not (drained := await _first(consumer, signals.hurry, drain_s)):
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


def start_pool_server_deaf_to_stop_signals() -> None:
    """Start the generator pool's fork server (and so its children) deaf to SIGINT and SIGTERM,
    so a Ctrl-C to the process group does not kill the pool under a drain."""
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in _STOPS}
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
