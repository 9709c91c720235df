"""`JobHandle`: one job, followed to its end over the first transport that works.

A job is followed over the WebSocket first, then Server-Sent Events, then long-polling (or the
client's `stream_transports`, in order): if a transport cannot be opened or drops before the
job's end, the next one resumes after the last `seq` seen, so no message is lost or repeated.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator

from practicegen_client._http import HttpCore, StreamTransport
from practicegen_client._streams import (
    StreamUnavailable,
    polled_messages,
    sse_messages,
    websocket_messages,
)
from practicegen_client.errors import (
    JobCancelledError,
    JobFailedError,
    JobWaitTimeout,
    PracticegenError,
)
from practicegen_client.models import (
    Assignment,
    CancelledMessage,
    CompletedMessage,
    FailedMessage,
    Job,
    JobAccepted,
    JobMessage,
)


class JobHandle:
    """One job: wait for it, follow its messages, read, cancel or retry it.

    `accepted` is the 202 body when this handle started the job; `replayed` is True when the
    service recognised the idempotency key and returned an earlier job; `transport` names the
    way (`websocket`, `sse` or `poll`) the last message arrived.
    """

    def __init__(
        self, client: HttpCore, job_id: uuid.UUID, accepted: JobAccepted | None = None
    ) -> None:
        self._client = client
        self.job_id = job_id
        self.accepted = accepted
        self.replayed = False
        self.transport: StreamTransport | None = None

    def __repr__(self) -> str:
        return f"JobHandle(job_id={self.job_id!s})"

    def _source(self, kind: StreamTransport, after_seq: int) -> AsyncGenerator[JobMessage, None]:
        job_id = str(self.job_id)
        if kind == "websocket":
            return websocket_messages(self._client, job_id)
        if kind == "sse":
            return sse_messages(self._client, job_id, after_seq)
        return polled_messages(self._client, job_id)

    async def events(self) -> AsyncGenerator[JobMessage, None]:
        """Each change of the job as a typed message, ending with its terminal message.

        The first message is the job's state now. `seq` only grows: when a transport fails
        and the next one takes over, messages already seen are skipped.
        """
        last = -1
        tried: list[str] = []
        for kind in self._client.stream_transports:
            source = self._source(kind, last)
            try:
                async for message in source:
                    if message.seq <= last:
                        continue
                    last = message.seq
                    self.transport = kind
                    yield message
                    if message.type != "status":
                        return
            except StreamUnavailable as exc:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    # a transport library turned our cancellation (e.g. wait's deadline) into
                    # its own error; falling through to the next transport would swallow it
                    raise asyncio.CancelledError from exc
                tried.append(str(exc))
            finally:
                await source.aclose()
        raise PracticegenError(f"could not follow job {self.job_id}: {'; '.join(tried)}")

    async def wait(self, timeout: float | None = None) -> Assignment:  # noqa: ASYNC109
        """The job's assignment once it completes.

        Raises JobFailedError or JobCancelledError if it ends otherwise, and JobWaitTimeout
        (a TimeoutError) after `timeout` seconds; the job itself keeps running then.
        """
        return (await self.completed(timeout)).assignment()

    async def completed(self, timeout: float | None = None) -> CompletedMessage:  # noqa: ASYNC109
        """The job's `completed` message once it comes; raises as `wait` does."""
        deadline = asyncio.timeout(timeout)
        try:
            async with deadline:
                async for message in self.events():
                    if isinstance(message, CompletedMessage):
                        return message
                    if isinstance(message, FailedMessage):
                        raise JobFailedError(str(self.job_id), message.error)
                    if isinstance(message, CancelledMessage):
                        raise JobCancelledError(str(self.job_id), message.error)
        except TimeoutError as exc:
            if deadline.expired():
                raise JobWaitTimeout(f"job {self.job_id} did not finish in {timeout} s") from exc
            raise
        raise PracticegenError(f"job {self.job_id}: the stream ended without a result")

    async def status(self) -> Job:
        """The job now (`GET /api/v1/jobs/{id}`)."""
        return Job.model_validate(await self._client._data("GET", f"/api/v1/jobs/{self.job_id}"))

    async def cancel(self) -> Job:
        """Cancel a pending or running job; a finished one raises ConflictError."""
        return Job.model_validate(
            await self._client._data("POST", f"/api/v1/jobs/{self.job_id}/cancel")
        )

    async def retry(self) -> Job:
        """Run a failed or cancelled job again (else ConflictError); wait() follows the new run."""
        return Job.model_validate(
            await self._client._data("POST", f"/api/v1/jobs/{self.job_id}/retry")
        )
