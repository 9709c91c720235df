"""The blocking client: `Client` and `SyncJobHandle`, derived from the async ones.

`Client` wraps an `AsyncClient` and runs it on a private event loop in a daemon thread, one per
client. That keeps one implementation of every endpoint, of retries, and of following a job (the
WebSocket library and SSE parsing are asyncio-based), so both clients behave identically; and
because the loop is private, a `Client` works in any thread, including one whose own event loop
is running (it blocks that thread, as any blocking call does). Calls from several threads are
safe: they are serialised onto the client's loop.

Each blocking method is `blocking(AsyncClient.method)`: the signature is the async method's
(kept for type checkers through `ParamSpec`), so an endpoint is written once, in `_async.py`.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, Unpack

from practicegen_client._async import AsyncClient
from practicegen_client._batches import BatchHandle
from practicegen_client._http import ClientOptions, IdOf, StreamTransport
from practicegen_client._jobs import JobHandle
from practicegen_client.models import AssignmentSummary, BatchAccepted, JobAccepted, JobMessage

P = ParamSpec("P")
R = TypeVar("R")
A = TypeVar("A")


class _LoopThread:
    """An event loop running forever in a daemon thread, until close()."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="practicegen-client", daemon=True
        )
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, R]) -> R:
        if threading.current_thread() is self.thread:
            coro.close()
            raise RuntimeError("a sync Client cannot be called from its own event loop")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


class _Twin(Generic[A]):
    """A blocking view of an async object `_target` whose coroutines run on `_loop`."""

    _target: A
    _loop: _LoopThread


def blocking(
    method: Callable[Concatenate[A, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[_Twin[A], P], R]:
    """The blocking twin of an async method: same arguments, its result once it is done."""

    @functools.wraps(method)
    def call(self: _Twin[A], /, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._loop.run(method(self._target, *args, **kwargs))

    return call


def _handing(
    method: Callable[Concatenate[AsyncClient, P], Coroutine[Any, Any, JobHandle] | JobHandle],
) -> Callable[Concatenate[Client, P], SyncJobHandle]:
    """The blocking twin of a method that gives a `JobHandle`: a `SyncJobHandle` on it."""

    @functools.wraps(method)
    def call(self: Client, /, *args: P.args, **kwargs: P.kwargs) -> SyncJobHandle:
        handle = method(self._target, *args, **kwargs)
        if not isinstance(handle, JobHandle):
            handle = self._loop.run(handle)
        return SyncJobHandle(self._loop, handle)

    return call


def _batching(
    method: Callable[Concatenate[AsyncClient, P], Coroutine[Any, Any, BatchHandle] | BatchHandle],
) -> Callable[Concatenate[Client, P], SyncBatchHandle]:
    """The blocking twin of a method that gives a `BatchHandle`: a `SyncBatchHandle` on it."""

    @functools.wraps(method)
    def call(self: Client, /, *args: P.args, **kwargs: P.kwargs) -> SyncBatchHandle:
        handle = method(self._target, *args, **kwargs)
        if not isinstance(handle, BatchHandle):
            handle = self._loop.run(handle)
        return SyncBatchHandle(self._loop, handle)

    return call


class Client(_Twin[AsyncClient]):
    """A blocking client for the practicegen API; it takes `AsyncClient`'s arguments.

    Use it as a context manager, or call `close()` (which also stops its loop thread).
    """

    def __init__(self, base_url: str, token: str, **options: Unpack[ClientOptions]) -> None:
        self._loop = _LoopThread()

        async def opened() -> AsyncClient:  # made on its loop, which httpx binds it to
            return AsyncClient(base_url, token, **options)

        try:
            self._target = self._loop.run(opened())
        except BaseException:
            self._loop.close()
            raise

    @property
    def async_client(self) -> AsyncClient:
        """The wrapped client (its coroutines must run on this client's loop)."""
        return self._target

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if not self._loop.loop.is_closed():
            self._loop.run(self._target.aclose())
            self._loop.close()

    catalog = blocking(AsyncClient.catalog)
    create_student = blocking(AsyncClient.create_student)
    get_student = blocking(AsyncClient.get_student)
    create_goal = blocking(AsyncClient.create_goal)
    create_item = blocking(AsyncClient.create_item)
    import_items = blocking(AsyncClient.import_items)
    assign = blocking(AsyncClient.assign)
    assign_async = _handing(AsyncClient.assign_async)
    job = _handing(AsyncClient.job)
    get_job = blocking(AsyncClient.get_job)
    get_assignment = blocking(AsyncClient.get_assignment)
    answer = blocking(AsyncClient.answer)
    mint_student_token = blocking(AsyncClient.mint_student_token)
    revoke_student_token = blocking(AsyncClient.revoke_student_token)
    create_class = blocking(AsyncClient.create_class)
    get_class = blocking(AsyncClient.get_class)
    add_to_class = blocking(AsyncClient.add_to_class)
    remove_from_class = blocking(AsyncClient.remove_from_class)
    class_students = blocking(AsyncClient.class_students)
    class_report = blocking(AsyncClient.class_report)
    mastery = blocking(AsyncClient.mastery)
    student_assignments = blocking(AsyncClient.student_assignments)

    def iter_student_assignments(
        self, student_id: IdOf, *, page_size: int = 50
    ) -> Iterator[AssignmentSummary]:
        """Every assignment of the student, newest first, a page at a time."""
        stream = self._target.iter_student_assignments(student_id, page_size=page_size)
        return _iterate(self._loop, stream)

    assign_class_async = _batching(AsyncClient.assign_class_async)
    assign_students_async = _batching(AsyncClient.assign_students_async)
    batch = _batching(AsyncClient.batch)


class SyncJobHandle(_Twin[JobHandle]):
    """The blocking twin of `JobHandle`."""

    def __init__(self, loop: _LoopThread, handle: JobHandle) -> None:
        self._loop = loop
        self._target = handle

    def __repr__(self) -> str:
        return f"SyncJobHandle(job_id={self.job_id!s})"

    @property
    def job_id(self) -> uuid.UUID:
        return self._target.job_id

    @property
    def accepted(self) -> JobAccepted | None:
        return self._target.accepted

    @property
    def replayed(self) -> bool:
        return self._target.replayed

    @property
    def transport(self) -> StreamTransport | None:
        return self._target.transport

    def events(self) -> Iterator[JobMessage]:
        return _iterate(self._loop, self._target.events())

    wait = blocking(JobHandle.wait)
    completed = blocking(JobHandle.completed)
    status = blocking(JobHandle.status)
    cancel = blocking(JobHandle.cancel)
    retry = blocking(JobHandle.retry)


class SyncBatchHandle(_Twin[BatchHandle]):
    """The blocking twin of `BatchHandle`."""

    def __init__(self, loop: _LoopThread, handle: BatchHandle) -> None:
        self._loop = loop
        self._target = handle

    def __repr__(self) -> str:
        return f"SyncBatchHandle(batch_id={self.batch_id!s})"

    @property
    def batch_id(self) -> uuid.UUID:
        return self._target.batch_id

    @property
    def accepted(self) -> BatchAccepted | None:
        return self._target.accepted

    @property
    def replayed(self) -> bool:
        return self._target.replayed

    def student_jobs(self) -> list[SyncJobHandle]:
        return [SyncJobHandle(self._loop, job) for job in self._target.student_jobs()]

    wait = blocking(BatchHandle.wait)
    status = blocking(BatchHandle.status)


def _iterate(loop: _LoopThread, stream: AsyncGenerator[R, None]) -> Iterator[R]:
    """The blocking twin of an async generator, closed on the loop when left."""
    try:
        while True:
            found = loop.run(_next(stream))
            if found is None:
                return
            yield found[0]
    finally:
        loop.run(stream.aclose())


async def _next(stream: AsyncIterator[R]) -> tuple[R] | None:
    """The next value (boxed, so any value can be told from the end), or None at the end."""
    try:
        return (await anext(stream),)
    except StopAsyncIteration:
        return None
