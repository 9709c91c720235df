"""Calls by job id asked for in the same turn of the event loop, made as one statement."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class Batcher(Generic[V]):
    """Each `get` asked for while the last batch ran goes into the next `run` of at most `most`
    ids; `first_only`: an id's value goes to its first waiter still waiting, the others get None."""

    def __init__(
        self,
        run: Callable[[list[uuid.UUID]], Awaitable[dict[uuid.UUID, V]]],
        most: int,
        *,
        first_only: bool = False,
    ) -> None:
        self._run = run
        self._most = most
        self._first_only = first_only
        self._waiting: dict[uuid.UUID, list[asyncio.Future[V | None]]] = {}
        self._running: asyncio.Task[None] | None = None

    async def get(self, job_id: uuid.UUID) -> V | None:
        future: asyncio.Future[V | None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(job_id, []).append(future)
        if self._running is None:
            self._running = asyncio.create_task(self._run_waiting())
        return await future

    async def _run_waiting(self) -> None:
        try:
            await asyncio.sleep(0)  # the rest of the batch asks in this turn of the loop
            while self._waiting:
                ids = list(self._waiting)[: self._most]
                batch = {job_id: self._waiting.pop(job_id) for job_id in ids}
                waiting = [f for futures in batch.values() for f in futures]
                try:
                    found = await self._run(ids)
                except Exception as exc:  # each waiter fails as its own call would have
                    for future in waiting:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                except asyncio.CancelledError:  # the process is stopping: so do the waiters
                    for future in waiting:
                        future.cancel()
                    raise
                for job_id, futures in batch.items():
                    value = found.get(job_id)
                    for future in futures:
                        if not future.done():  # its waiter may have left meanwhile
                            future.set_result(value)
                            value = None if self._first_only else value
        finally:
            self._running = None
