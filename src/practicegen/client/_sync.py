"""The blocking client: `Client` and `SyncJobHandle`, with the same methods as the async ones.

`Client` wraps an `AsyncClient` and runs it on a private event loop in a daemon thread, one per
client. That keeps one implementation of retries, the WebSocket, Server-Sent Events and
long-polling (the WebSocket library and SSE parsing are asyncio-based), so both clients behave
identically; and because the loop is private, a `Client` works in any thread, including one
whose own event loop is running (it blocks that thread, as any blocking call does). Calls from
several threads are safe: they are serialised onto the client's loop.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import httpx

from practicegen.client._async import (
    DEFAULT_TRANSPORTS,
    AsyncClient,
    JobHandle,
    StreamTransport,
)
from practicegen.client.models import (
    AnswerResult,
    Assignment,
    Goal,
    ImportReport,
    Item,
    Job,
    JobAccepted,
    JobMessage,
    Student,
    StudentToken,
)

T = TypeVar("T")
_IdOf = uuid.UUID | str


class _LoopThread:
    """An event loop running forever in a daemon thread, until close()."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="practicegen-client", daemon=True
        )
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
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


class Client:
    """A blocking client for the practicegen API; see `AsyncClient` for the arguments.

    Use it as a context manager, or call `close()` (which also stops its loop thread).
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 30,
        max_retries: int = 3,
        transport: httpx.AsyncBaseTransport | None = None,
        websocket_url: str | None = None,
        stream_transports: Sequence[StreamTransport] = DEFAULT_TRANSPORTS,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 8.0,
        max_retry_after_s: float = 60.0,
        poll_wait_s: float = 20.0,
    ) -> None:
        self._loop = _LoopThread()

        async def make() -> AsyncClient:
            return AsyncClient(
                base_url,
                token,
                timeout=timeout,
                max_retries=max_retries,
                transport=transport,
                websocket_url=websocket_url,
                stream_transports=stream_transports,
                backoff_base_s=backoff_base_s,
                backoff_max_s=backoff_max_s,
                max_retry_after_s=max_retry_after_s,
                poll_wait_s=poll_wait_s,
            )

        try:
            self._async = self._loop.run(make())
        except BaseException:
            self._loop.close()
            raise

    @property
    def async_client(self) -> AsyncClient:
        """The wrapped client (its coroutines must run on this client's loop)."""
        return self._async

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if not self._loop.loop.is_closed():
            self._loop.run(self._async.aclose())
            self._loop.close()

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._loop.run(coro)

    def create_student(
        self,
        *,
        display_name: str | None = None,
        external_id: str | None = None,
        grade_level: int | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Student:
        return self._run(
            self._async.create_student(
                display_name=display_name,
                external_id=external_id,
                grade_level=grade_level,
                metadata=metadata,
            )
        )

    def get_student(self, student_id: _IdOf) -> Student:
        return self._run(self._async.get_student(student_id))

    def create_goal(
        self, *, name: str, subject: str, skills: Sequence[str], description: str | None = None
    ) -> Goal:
        return self._run(
            self._async.create_goal(
                name=name, subject=subject, skills=skills, description=description
            )
        )

    def create_item(
        self,
        *,
        subject: str,
        topic: str,
        skill: str,
        type: str,
        stem: str,
        answer: str,
        answer_policy: str,
        tolerance: float | None = None,
        choices: Sequence[Mapping[str, Any]] = (),
        hints: Sequence[str] = (),
        solution: str | None = None,
        difficulty: float = 0.0,
        source: str | None = None,
        provenance: Mapping[str, Any] | None = None,
    ) -> Item:
        return self._run(
            self._async.create_item(
                subject=subject,
                topic=topic,
                skill=skill,
                type=type,
                stem=stem,
                answer=answer,
                answer_policy=answer_policy,
                tolerance=tolerance,
                choices=choices,
                hints=hints,
                solution=solution,
                difficulty=difficulty,
                source=source,
                provenance=provenance,
            )
        )

    def import_items(
        self, document: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    ) -> ImportReport:
        return self._run(self._async.import_items(document))

    def assign(
        self,
        student_id: _IdOf,
        subject: str,
        num_items: int,
        topic: str | None = None,
        goal_tags: Sequence[_IdOf] = (),
        *,
        wait_timeout: float | None = None,
    ) -> Assignment:
        """See `AsyncClient.assign`: a 202 from the service is waited for transparently."""
        return self._run(
            self._async.assign(
                student_id, subject, num_items, topic, goal_tags, wait_timeout=wait_timeout
            )
        )

    def assign_async(
        self,
        student_id: _IdOf,
        subject: str,
        num_items: int,
        topic: str | None = None,
        goal_tags: Sequence[_IdOf] = (),
        *,
        webhook_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> SyncJobHandle:
        handle = self._run(
            self._async.assign_async(
                student_id,
                subject,
                num_items,
                topic,
                goal_tags,
                webhook_url=webhook_url,
                idempotency_key=idempotency_key,
            )
        )
        return SyncJobHandle(self, handle)

    def job(self, job_id: _IdOf) -> SyncJobHandle:
        return SyncJobHandle(self, self._async.job(job_id))

    def get_job(self, job_id: _IdOf) -> Job:
        return self._run(self._async.get_job(job_id))

    def get_assignment(self, assignment_id: _IdOf) -> Assignment:
        return self._run(self._async.get_assignment(assignment_id))

    def answer(self, assignment_id: _IdOf, position: int, answer: str) -> AnswerResult:
        return self._run(self._async.answer(assignment_id, position, answer))

    def mint_student_token(self, student_id: _IdOf, ttl_s: int | None = None) -> StudentToken:
        return self._run(self._async.mint_student_token(student_id, ttl_s))

    def revoke_student_token(self, token_id: _IdOf) -> None:
        self._run(self._async.revoke_student_token(token_id))


class SyncJobHandle:
    """The blocking twin of `JobHandle`."""

    def __init__(self, client: Client, handle: JobHandle) -> None:
        self._client = client
        self._handle = handle

    def __repr__(self) -> str:
        return f"SyncJobHandle(job_id={self.job_id!s})"

    @property
    def job_id(self) -> uuid.UUID:
        return self._handle.job_id

    @property
    def accepted(self) -> JobAccepted | None:
        return self._handle.accepted

    @property
    def replayed(self) -> bool:
        return self._handle.replayed

    @property
    def transport(self) -> StreamTransport | None:
        return self._handle.transport

    def wait(self, timeout: float | None = None) -> Assignment:
        return self._client._run(self._handle.wait(timeout))

    def events(self) -> Iterator[JobMessage]:
        stream = self._handle.events()
        try:
            while True:
                message = self._client._run(_next(stream))
                if message is None:
                    return
                yield message
        finally:
            self._client._run(stream.aclose())

    def status(self) -> Job:
        return self._client._run(self._handle.status())

    def cancel(self) -> Job:
        return self._client._run(self._handle.cancel())

    def retry(self) -> Job:
        return self._client._run(self._handle.retry())


async def _next(stream: AsyncIterator[JobMessage]) -> JobMessage | None:
    """The next message, or None at the end (a message is never None)."""
    try:
        return await anext(stream)
    except StopAsyncIteration:
        return None
