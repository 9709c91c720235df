"""Running a job worker: consume, drain, stop (`worker_running`, `consume_until_stopped`).

`serve` runs the worker inside the API process; `practicegen worker` (composed in
`worker_node.py`) runs it as its own process, any number of them on any machine consuming the
PostgreSQL queue. Both run the same `worker_running`, so a job behaves the same wherever it runs.

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
from collections.abc import AsyncIterator, Iterator

import structlog

from practicegen.config import Settings
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


@contextlib.asynccontextmanager
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


def start_pool_server_deaf_to_stop_signals() -> None:
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
