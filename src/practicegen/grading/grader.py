"""Grading in worker processes with a deadline: sympy's comparison has no time bound, and a
`ProcessPoolExecutor` cannot stop one stuck call, so each worker is a process and a pipe serving
one call at a time, killed past its deadline while a replacement starts; warm before its first.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from typing import Self

import structlog

from practicegen.fork_server import forkserver_context
from practicegen.grading.answer_cost import DEFAULT_MAX_WEIGHT
from practicegen.grading.grades import (
    AnswerKey,
    FeedbackCode,
    Grade,
    InvalidKey,
    too_complex,
    verdict,
)
from practicegen.grading.sympy_pool import WARM_UP

log = structlog.get_logger()

_READY = "ready"
_CRASHED = "crashed"  # the worker died during the call
_STALE = "stale"  # the worker had died before the call, which can be retried elsewhere
_FAILED = "failed"  # grading raised
_STARTUP_S = 60.0  # for a worker to say it is ready
_START_ATTEMPTS = 3
# Grading yields the CPU to the node's event loop, which answers at their deadline would starve.
_NICENESS = 10
_Request = tuple[str, AnswerKey, int, int]  # answer, key, max length, max weight
_Reply = tuple[str, object]


class GraderClosed(RuntimeError):
    """`grade` was called after, or was running during, `aclose`."""


class GraderUnavailable(RuntimeError):
    """No grading worker could be started."""


def _serve(conn: Connection) -> None:
    """A worker's life: say it is ready, then grade one request at a time until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    os.nice(_NICENESS)
    conn.send(_READY)
    with contextlib.suppress(EOFError):  # the parent's end closed
        while (request := conn.recv()) is not None:
            conn.send(_grade_safely(*request))


def _grade_safely(answer: str, key: AnswerKey, max_length: int, max_weight: int) -> _Reply:
    # sympy work: imported in the worker (its fork server preloads it), never on the loop
    from practicegen.grading.grade import grade_answer

    try:
        return "grade", grade_answer(answer, key, max_length=max_length, max_weight=max_weight)
    except InvalidKey as exc:
        return "invalid_key", str(exc)
    except Exception as exc:  # sympy failing on a strange answer; reported, not raised
        return _FAILED, f"{type(exc).__name__}: {exc}"


@dataclass(eq=False, slots=True)
class _Worker:
    """One worker process and the parent's end of its pipe; every method blocks."""

    process: BaseProcess
    conn: Connection

    @classmethod
    def start(cls, context: ForkServerContext) -> _Worker:
        ours, theirs = context.Pipe()
        process = context.Process(target=_serve, args=(theirs,), daemon=True)
        process.start()
        theirs.close()
        worker = cls(process, ours)
        with contextlib.suppress(EOFError, OSError):
            if ours.poll(_STARTUP_S) and ours.recv() == _READY:
                return worker
        worker.stop()
        raise GraderUnavailable("a grading worker did not start")

    def call(self, request: _Request, timeout_s: float) -> _Reply | None:
        """The worker's reply, or None if it has not replied within `timeout_s`."""
        if not self.process.is_alive():
            return _STALE, None
        self.conn.send(request)
        if not self.conn.poll(timeout_s):
            return None
        reply: _Reply = self.conn.recv()
        return reply

    def stop(self) -> None:
        self.process.kill()
        self.process.join(timeout=10)
        self.conn.close()


class Grader:
    """Grades answers in `workers` subprocesses, each call limited to `timeout_s` seconds."""

    def __init__(
        self,
        *,
        workers: int = 2,
        timeout_s: float = 2.0,
        max_answer_length: int = 200,
        max_answer_weight: int = DEFAULT_MAX_WEIGHT,
    ) -> None:
        if workers < 1 or timeout_s <= 0:
            raise ValueError("a Grader needs at least one worker and a positive timeout")
        self.workers = workers
        self.timeout_s = timeout_s
        self._max_length = max_answer_length
        self._max_weight = max_answer_weight
        self._context = forkserver_context("practicegen.grading.grade", WARM_UP)
        self._threads = ThreadPoolExecutor(2 * workers + 2, thread_name_prefix="grader")
        self._idle: asyncio.Queue[_Worker | None] = asyncio.Queue()
        self._live: set[_Worker] = set()
        self._starting: set[asyncio.Task[None]] = set()
        self._closed = False

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def start(self) -> None:
        """Start any missing workers and wait until they are ready (`grade` calls this too)."""
        if self._closed:
            raise GraderClosed("the grader is closed")
        for _ in range(self.workers - len(self._live) - len(self._starting)):
            self._launch()
        if self._starting:
            await asyncio.gather(*self._starting, return_exceptions=True)

    def precheck(self, answer: str, key: AnswerKey) -> Grade | None:
        """The grade of an answer the cost bound refuses, found without a worker; else None."""
        if too_complex(answer, key, max_length=self._max_length, max_weight=self._max_weight):
            return verdict(FeedbackCode.TOO_COMPLEX)
        return None

    async def grade(self, answer: str, key: AnswerKey) -> Grade:
        """Grade in a worker; `timed_out` if that takes longer than the deadline."""
        if (refused := self.precheck(answer, key)) is not None:
            return refused
        if len(self._live) + len(self._starting) < self.workers:
            await self.start()
        request = (answer, key, self._max_length, self._max_weight)
        reply = await self._call(request)
        for _ in range(self.workers):  # a worker that died while idle never saw the request
            if reply is None or reply[0] != _STALE:
                break
            reply = await self._call(request)
        return self._outcome(reply)

    async def _call(self, request: _Request) -> _Reply | None:
        worker = await self._checkout()
        reply: _Reply | None = (_CRASHED, None)
        try:
            with contextlib.suppress(EOFError, OSError):  # it died: killed by `aclose`, or not
                reply = await asyncio.get_running_loop().run_in_executor(
                    self._threads, worker.call, request, self.timeout_s
                )
        finally:
            if reply is not None and reply[0] not in (_CRASHED, _STALE):
                self._idle.put_nowait(worker)
            else:
                self._live.discard(worker)
                if not self._closed:  # else `aclose` has stopped it
                    self._launch(retired=worker)
        return reply

    async def aclose(self) -> None:
        """Stop every worker; waits until they have exited."""
        if self._closed:
            return
        self._closed = True
        while self._starting:
            await asyncio.gather(*self._starting, return_exceptions=True)
        workers, self._live = list(self._live), set()
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(self._threads, w.stop) for w in workers))
        self._idle.put_nowait(None)  # wakes anyone still waiting for a worker
        self._threads.shutdown(wait=False)

    async def _checkout(self) -> _Worker:
        while True:
            if (worker := await self._idle.get()) is not None:
                return worker
            if self._closed:
                self._idle.put_nowait(None)
                raise GraderClosed("the grader is closed")
            if not self._live and not self._starting:
                self._idle.put_nowait(None)
                raise GraderUnavailable("no grading worker could be started")

    def _outcome(self, reply: _Reply | None) -> Grade:
        if self._closed:
            raise GraderClosed("the grader closed while grading")
        if reply is None:
            log.warning("grader.timed_out", timeout_s=self.timeout_s)
            return verdict(FeedbackCode.TIMED_OUT)
        kind, body = reply
        if kind == "grade" and isinstance(body, Grade):
            return body
        if kind == "invalid_key":
            raise InvalidKey(str(body))
        log.error("grader.failed", outcome=kind, error=body)
        return verdict(FeedbackCode.UNPARSEABLE, "That answer could not be checked.")

    def _launch(self, retired: _Worker | None = None) -> None:
        task = asyncio.create_task(self._replace(retired))
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)

    async def _replace(self, retired: _Worker | None) -> None:
        """Stop `retired` (if any), then start a worker and make it available."""
        loop = asyncio.get_running_loop()
        if retired is not None:
            await loop.run_in_executor(self._threads, retired.stop)
        for attempt in range(_START_ATTEMPTS):
            if self._closed:
                return
            try:
                worker = await loop.run_in_executor(self._threads, _Worker.start, self._context)
            except (GraderUnavailable, OSError) as exc:
                log.error("grader.worker_start_failed", attempt=attempt + 1, error=repr(exc))
                await asyncio.sleep(0.1 * 2**attempt)
                continue
            if self._closed:
                await loop.run_in_executor(self._threads, worker.stop)
                return
            self._live.add(worker)
            self._idle.put_nowait(worker)
            return
        if (current := asyncio.current_task()) is not None:
            self._starting.discard(current)
        self._idle.put_nowait(None)  # lets waiters see that no worker is coming
