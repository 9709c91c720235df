"""The processes that do a node's CPU-heavy sympy work, off the event loop, forked from the fork
server. A pool process leaves when the process that made the pool ends, however it ends.
"""

from __future__ import annotations

import asyncio
import os
import select
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from practicegen.fork_server import forkserver_context

T = TypeVar("T")

# the modules whose functions the pool's processes run, and what those import when called:
# the fork server preloads them, so a pool process imports nothing on its first call
RUNS = (
    "practicegen.generation.procedural.checked",
    "practicegen.generation.procedural.checks",
    "practicegen.generation.procedural.registry",
    "practicegen.generation.llm_verify",
    "practicegen.generation.llm_check",
    "practicegen.items.keys",
    "practicegen.grading.grade",
)
WARM_UP = "practicegen.grading.warm"  # preloaded: the fork server warms sympy for its forks


def _in_pool_process(owner: int) -> None:
    """A pool process's set-up: exit with `owner`, stop signals ignored (the parent's)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_exit_after, args=(owner,), name="owner-watch", daemon=True).start()


def _exit_after(owner: int) -> None:
    try:
        ended = os.pidfd_open(owner)  # readable once the process has exited (Linux 5.3+)
    except (AttributeError, OSError):
        while _alive(owner):
            time.sleep(1.0)
    else:
        select.select([ended], [], [])
    os._exit(0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):  # gone, or its number is someone else's
        return False
    return True


class SympyPool:
    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError("a sympy pool needs at least one process")
        self.workers = workers
        self._context = forkserver_context(*RUNS, WARM_UP)
        self._pool: ProcessPoolExecutor | None = None
        self._starting: asyncio.Future[None] | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=self._context,
                initializer=_in_pool_process,
                initargs=(os.getpid(),),
            )
        return self._pool

    async def start(self, timeout_s: float = 60.0) -> None:
        """Start the pool's processes now: one call per process, all in flight at once. Calls on
        a pool not yet started wait for this, outside their own deadlines; one that cannot start
        within `timeout_s` is a `BrokenProcessPool`, and the next call tries again."""
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._start(timeout_s))
            self._starting.add_done_callback(self._start_ended)
        await asyncio.shield(self._starting)

    async def _start(self, timeout_s: float) -> None:
        calls = [self._call(os.getpid, timeout_s=timeout_s) for _ in range(self.workers)]
        for outcome in await asyncio.gather(*calls, return_exceptions=True):
            if isinstance(outcome, TimeoutError):
                raise BrokenProcessPool(f"the pool's processes did not start in {timeout_s} s")
            if isinstance(outcome, BaseException):
                raise outcome

    def _start_ended(self, starting: asyncio.Future[None]) -> None:
        failed = starting.cancelled() or starting.exception() is not None
        if failed and self._starting is starting:
            self._starting = None

    async def run(self, function: Callable[..., T], *args: object, timeout_s: float) -> T:
        """`function(*args)` in a pool process; TimeoutError past `timeout_s` (callers cap inputs,
        as the call keeps its process). A broken pool raises once and is then replaced."""
        await self.start()
        return await self._call(function, *args, timeout_s=timeout_s)

    async def _call(self, function: Callable[..., T], *args: object, timeout_s: float) -> T:
        loop = asyncio.get_running_loop()
        pool = self._executor()
        deadline = loop.time() + timeout_s
        try:
            result = await asyncio.wait_for(loop.run_in_executor(pool, function, *args), timeout_s)
        except BrokenProcessPool:
            if self._pool is pool:
                self._pool, self._starting = None, None
                pool.shutdown(wait=False, cancel_futures=True)
            raise
        if loop.time() > deadline:
            raise TimeoutError
        return result

    async def aclose(self) -> None:
        if self._pool is not None:
            pool, self._pool, self._starting = self._pool, None, None
            await asyncio.to_thread(pool.shutdown, True, cancel_futures=True)
