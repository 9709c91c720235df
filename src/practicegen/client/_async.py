"""The asyncio client: `AsyncClient` and the `JobHandle` that follows one job.

Requests go through one httpx.AsyncClient. A 429 or 5xx answer (and a connection that could
not be opened) is retried up to `max_retries` times: after the service's `Retry-After` when it
sends one, else after an exponential backoff with jitter. Other 4xx answers are never retried;
every error answer raises a typed `PracticegenAPIError` subclass.

A job is followed over the WebSocket first, then Server-Sent Events, then long-polling of
`GET /api/v1/jobs/{id}?wait=20`: if a transport cannot be opened or drops before the job's end,
the next one resumes after the last `seq` seen, so no message is lost or repeated.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal

import httpx

from practicegen.client.errors import (
    JobCancelledError,
    JobFailedError,
    JobWaitTimeout,
    PracticegenAPIError,
    PracticegenError,
    error_for,
    parse_retry_after,
)
from practicegen.client.models import (
    JOB_MESSAGE,
    AnswerResult,
    Assignment,
    CancelledMessage,
    CompletedMessage,
    FailedMessage,
    Goal,
    ImportReport,
    Item,
    Job,
    JobAccepted,
    JobMessage,
    Student,
    StudentToken,
    message_of,
)

StreamTransport = Literal["websocket", "sse", "poll"]
DEFAULT_TRANSPORTS: tuple[StreamTransport, ...] = ("websocket", "sse", "poll")
# Error codes that mean "this route is not here" rather than "this job is not here".
_ROUTE_CODES = frozenset({"not_found", "http_error", "method_not_allowed", "not_acceptable"})
_IdOf = uuid.UUID | str


class _StreamUnavailable(Exception):
    """A stream transport could not be used (or dropped); try the next one."""


def _id(value: _IdOf) -> str:
    return str(uuid.UUID(str(value)))


class AsyncClient:
    """An asyncio client for the practicegen API.

    `base_url` is the service's root (e.g. `http://127.0.0.1:8000`); `token` an API key or a
    student token. `transport` is passed to httpx (e.g. `httpx.MockTransport` in tests, or a
    transport with custom TLS). `websocket_url` overrides the WebSocket root (default: the
    base URL with `ws://`/`wss://`); `stream_transports` chooses which ways of following a job
    are tried, in order. Use it as an async context manager, or call `aclose()`.
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
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        unknown = set(stream_transports) - set(DEFAULT_TRANSPORTS)
        if unknown or not stream_transports:
            raise ValueError(f"stream_transports must be taken from {DEFAULT_TRANSPORTS}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.stream_transports = tuple(stream_transports)
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.max_retry_after_s = max_retry_after_s
        self.poll_wait_s = poll_wait_s
        if websocket_url is None:
            websocket_url = "ws" + self.base_url.removeprefix("http")
        self.websocket_url = websocket_url.rstrip("/")
        self._token = token
        self._sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- requests and retries -------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: a random delay in [d/2, d], d = base * 2**attempt."""
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2.0**attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        request_timeout: float | None = None,
    ) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = await self._http.request(
                    method,
                    path,
                    json=json_body,
                    params=params,
                    headers=headers,
                    timeout=request_timeout
                    if request_timeout is not None
                    else httpx.USE_CLIENT_DEFAULT,
                )
            except (httpx.ConnectError, httpx.ConnectTimeout):
                if attempt >= self.max_retries:  # the request never left: safe to retry
                    raise
                await self._sleep(self._backoff(attempt))
                attempt += 1
                continue
            status = response.status_code
            if (status == 429 or status >= 500) and attempt < self.max_retries:
                after = parse_retry_after(response.headers.get("retry-after"))
                delay = self._backoff(attempt) if after is None else after
                await self._sleep(min(delay, self.max_retry_after_s))
                attempt += 1
                continue
            if status >= 400:
                raise _error(response)
            return response

    async def _data(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        response = await self._request(method, path, json_body=json_body, params=params)
        return response.json()["data"]

    # -- students, goals, items -----------------------------------------------------------

    async def create_student(
        self,
        *,
        display_name: str | None = None,
        external_id: str | None = None,
        grade_level: int | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Student:
        body = _without_none(
            display_name=display_name,
            external_id=external_id,
            grade_level=grade_level,
            metadata=dict(metadata) if metadata is not None else None,
        )
        return Student.model_validate(await self._data("POST", "/api/v1/students", json_body=body))

    async def get_student(self, student_id: _IdOf) -> Student:
        return Student.model_validate(
            await self._data("GET", f"/api/v1/students/{_id(student_id)}")
        )

    async def create_goal(
        self, *, name: str, subject: str, skills: Sequence[str], description: str | None = None
    ) -> Goal:
        body = _without_none(
            name=name, subject=subject, skills=list(skills), description=description
        )
        return Goal.model_validate(await self._data("POST", "/api/v1/goals", json_body=body))

    async def create_item(
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
        """Add one item to the bank (fields as in the README's item bank format)."""
        body = _without_none(
            subject=subject,
            topic=topic,
            skill=skill,
            type=type,
            stem=stem,
            answer=answer,
            answer_policy=answer_policy,
            tolerance=tolerance,
            choices=[dict(c) for c in choices],
            hints=list(hints),
            solution=solution,
            difficulty=difficulty,
            source=source,
            provenance=dict(provenance) if provenance is not None else None,
        )
        return Item.model_validate(await self._data("POST", "/api/v1/items", json_body=body))

    async def import_items(
        self, document: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    ) -> ImportReport:
        """Import a `practicegen-bank` document (or a plain list of items, wrapped for you)."""
        if isinstance(document, Mapping):
            body: dict[str, Any] = dict(document)
        else:
            body = {
                "format": "practicegen-bank",
                "version": 1,
                "items": [dict(i) for i in document],
            }
        return ImportReport.model_validate(
            await self._data("POST", "/api/v1/items/import", json_body=body)
        )

    # -- practice ---------------------------------------------------------------------------

    async def assign(
        self,
        student_id: _IdOf,
        subject: str,
        num_items: int,
        topic: str | None = None,
        goal_tags: Sequence[_IdOf] = (),
        *,
        wait_timeout: float | None = None,
    ) -> Assignment:
        """Assign practice now (`POST /api/v1/practice/assign`) and return the assignment.

        When the work runs over the service's time budget, the service answers 202 with a job
        instead; this method then waits for that job (as `JobHandle.wait(wait_timeout)` does)
        and returns its assignment, so the caller always gets an `Assignment`.
        """
        body = _assign_body(student_id, subject, num_items, topic, goal_tags)
        response = await self._request("POST", "/api/v1/practice/assign", json_body=body)
        if response.status_code == 202:
            accepted = JobAccepted.model_validate(response.json())
            return await JobHandle(self, accepted.job_id, accepted).wait(wait_timeout)
        return Assignment.model_validate(response.json()["data"])

    async def assign_async(
        self,
        student_id: _IdOf,
        subject: str,
        num_items: int,
        topic: str | None = None,
        goal_tags: Sequence[_IdOf] = (),
        *,
        webhook_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> JobHandle:
        """Start a practice generation job (`POST /api/v1/practice/assign/async`).

        The request is checked before the job exists (a bad subject raises ValidationError
        here). An `Idempotency-Key` is sent (a random one unless given), so a retry after a
        lost answer never starts a second job.
        """
        body = _assign_body(student_id, subject, num_items, topic, goal_tags)
        if webhook_url is not None:
            body["webhook_url"] = webhook_url
        key = idempotency_key or uuid.uuid4().hex
        response = await self._request(
            "POST",
            "/api/v1/practice/assign/async",
            json_body=body,
            headers={"Idempotency-Key": key},
        )
        accepted = JobAccepted.model_validate(response.json())
        handle = JobHandle(self, accepted.job_id, accepted)
        handle.replayed = response.headers.get("idempotent-replayed") == "true"
        return handle

    def job(self, job_id: _IdOf) -> JobHandle:
        """A handle on an existing job, e.g. one whose id you stored."""
        return JobHandle(self, uuid.UUID(str(job_id)))

    async def get_job(self, job_id: _IdOf) -> Job:
        return Job.model_validate(await self._data("GET", f"/api/v1/jobs/{_id(job_id)}"))

    async def get_assignment(self, assignment_id: _IdOf) -> Assignment:
        path = f"/api/v1/assignments/{_id(assignment_id)}"
        return Assignment.model_validate(await self._data("GET", path))

    async def answer(self, assignment_id: _IdOf, position: int, answer: str) -> AnswerResult:
        """Grade one answer to the item at `position` (1-based) of an assignment."""
        path = f"/api/v1/assignments/{_id(assignment_id)}/responses"
        body = {"position": position, "answer": answer}
        return AnswerResult.model_validate(await self._data("POST", path, json_body=body))

    async def mint_student_token(self, student_id: _IdOf, ttl_s: int | None = None) -> StudentToken:
        """A short-lived token for one student, to hand to a browser."""
        body = _without_none(student_id=_id(student_id), ttl_s=ttl_s)
        return StudentToken.model_validate(
            await self._data("POST", "/api/v1/tokens", json_body=body)
        )

    async def revoke_student_token(self, token_id: _IdOf) -> None:
        """Refuse a student token from now on (on every node within the service's key cache
        time); revoking a revoked token again is no error."""
        await self._data("DELETE", f"/api/v1/tokens/{_id(token_id)}")

    # -- following a job ------------------------------------------------------------------

    async def _websocket_messages(self, job_id: str) -> AsyncGenerator[JobMessage, None]:
        try:
            from websockets.asyncio.client import connect
            from websockets.exceptions import ConnectionClosed, WebSocketException
        except ImportError as exc:  # the optional dependency is missing
            raise _StreamUnavailable("websockets is not installed") from exc
        url = f"{self.websocket_url}/api/v1/jobs/{job_id}/ws"
        try:
            async with connect(
                url,
                additional_headers={"Authorization": f"Bearer {self._token}"},
                open_timeout=self.timeout,
            ) as socket:
                async for raw in socket:
                    yield JOB_MESSAGE.validate_json(raw)
        except ConnectionClosed as exc:
            refusal = _refusal(exc)
            if refusal is not None:
                raise refusal from exc
            raise _StreamUnavailable(f"websocket: {exc}") from exc
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise _StreamUnavailable(f"websocket: {exc}") from exc

    async def _sse_messages(self, job_id: str, after_seq: int) -> AsyncGenerator[JobMessage, None]:
        headers = {"Accept": "text/event-stream"}
        if after_seq >= 0:
            headers["Last-Event-ID"] = str(after_seq)
        # The service pings every 15 s; a read timeout well past that means a dead stream.
        timeout = httpx.Timeout(self.timeout, read=max(self.timeout, 45.0))
        path = f"/api/v1/jobs/{job_id}/events"
        try:
            async with self._http.stream("GET", path, headers=headers, timeout=timeout) as response:
                if response.status_code != 200:
                    await response.aread()
                    error = _error(response)
                    if _about_the_job(error):  # e.g. 404 job_not_found, 410, 401
                        raise error
                    raise _StreamUnavailable(f"sse: {error}")
                if not response.headers.get("content-type", "").startswith("text/event-stream"):
                    raise _StreamUnavailable("sse: not an event stream")
                data: list[str] = []
                async for line in response.aiter_lines():
                    if line == "":
                        if data:
                            yield JOB_MESSAGE.validate_json("\n".join(data))
                            data = []
                        continue
                    field, _, value = line.partition(":")
                    if field == "data":
                        data.append(value.removeprefix(" "))
        except httpx.TransportError as exc:
            raise _StreamUnavailable(f"sse: {exc!r}") from exc

    async def _polled_messages(self, job_id: str) -> AsyncGenerator[JobMessage, None]:
        path = f"/api/v1/jobs/{job_id}"
        response = await self._request("GET", path)
        timeout = max(self.timeout, self.poll_wait_s + 10)
        while True:
            if response.status_code != 304:
                job = Job.model_validate(response.json()["data"])
                yield message_of(job)
                if job.status.terminal:
                    return
            response = await self._request(
                "GET",
                path,
                params={"wait": self.poll_wait_s},
                headers={"If-None-Match": response.headers.get("etag", "")},
                request_timeout=timeout,
            )


class JobHandle:
    """One job: wait for it, follow its messages, read, cancel or retry it.

    `accepted` is the 202 body when this handle started the job; `replayed` is True when the
    service recognised the idempotency key and returned an earlier job; `transport` names the
    way (`websocket`, `sse` or `poll`) the last message arrived.
    """

    def __init__(
        self, client: AsyncClient, job_id: uuid.UUID, accepted: JobAccepted | None = None
    ) -> None:
        self._client = client
        self.job_id = job_id
        self.accepted = accepted
        self.replayed = False
        self.transport: StreamTransport | None = None

    def __repr__(self) -> str:
        return f"JobHandle(job_id={self.job_id!s})"

    async def events(self) -> AsyncGenerator[JobMessage, None]:
        """Each change of the job as a typed message, ending with its terminal message.

        The first message is the job's state now. `seq` only grows: when a transport fails
        and the next one takes over, messages already seen are skipped.
        """
        job_id = str(self.job_id)
        last = -1
        tried: list[str] = []
        for kind in self._client.stream_transports:
            if kind == "websocket":
                source = self._client._websocket_messages(job_id)
            elif kind == "sse":
                source = self._client._sse_messages(job_id, last)
            else:
                source = self._client._polled_messages(job_id)
            try:
                async for message in source:
                    if message.seq <= last:
                        continue
                    last = message.seq
                    self.transport = kind
                    yield message
                    if message.type != "status":
                        return
            except _StreamUnavailable as exc:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    # a transport library turned our cancellation (e.g. wait's deadline) into
                    # its own error; falling through to the next transport would swallow it
                    raise asyncio.CancelledError from exc
                tried.append(str(exc))
            finally:
                await source.aclose()
        raise PracticegenError(f"could not follow job {job_id}: {'; '.join(tried)}")

    async def wait(self, timeout: float | None = None) -> Assignment:  # noqa: ASYNC109
        """The job's assignment once it completes.

        Raises JobFailedError or JobCancelledError if it ends otherwise, and JobWaitTimeout
        (a TimeoutError) after `timeout` seconds; the job itself keeps running then.
        """
        deadline = asyncio.timeout(timeout)
        try:
            async with deadline:
                async for message in self.events():
                    if isinstance(message, CompletedMessage):
                        return message.assignment()
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
        return await self._client.get_job(self.job_id)

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


def _error(response: httpx.Response) -> PracticegenAPIError:
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    return error_for(response.status_code, body, dict(response.headers))


def _refusal(closed: Exception) -> PracticegenAPIError | None:
    """The error a WebSocket closed with 4000 + an HTTP status stands for (the service refuses
    a job the caller may not follow that way), or None for any other close."""
    received = getattr(closed, "rcvd", None)
    if received is None or not 4400 <= received.code < 4600:
        return None
    status, code = received.code - 4000, received.reason or "http_error"
    return error_for(status, {"error": {"code": code, "message": f"WebSocket refused: {code}"}})


def _about_the_job(error: PracticegenAPIError) -> bool:
    """A 4xx that another transport would get too (not a missing route, not a 429)."""
    return error.status < 500 and error.status != 429 and error.code not in _ROUTE_CODES


def _without_none(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _assign_body(
    student_id: _IdOf,
    subject: str,
    num_items: int,
    topic: str | None,
    goal_tags: Sequence[_IdOf],
) -> dict[str, Any]:
    return _without_none(
        student_id=_id(student_id),
        subject=subject,
        num_items=num_items,
        topic=topic,
        goal_tags=[_id(g) for g in goal_tags],
    )
