"""The three ways of following a job, each an async generator of typed job messages.

The WebSocket (`/api/v1/jobs/{id}/ws`), Server-Sent Events (`/events`, resumed with
`Last-Event-ID`) and long-polling (`GET /api/v1/jobs/{id}?wait=...` with `If-None-Match`). A
transport that cannot be opened or drops raises `StreamUnavailable`, so `JobHandle.events()`
moves on to the next one; an answer about the job itself (404, 410, 401) raises its typed error,
since every other transport would get it too.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import httpx

from practicegen_client._http import HttpCore, error_of
from practicegen_client.errors import PracticegenAPIError, error_for
from practicegen_client.models import JOB_MESSAGE, Job, JobMessage, message_of

# Error codes that mean "this route is not here" rather than "this job is not here".
_ROUTE_CODES = frozenset({"not_found", "http_error", "method_not_allowed", "not_acceptable"})


class StreamUnavailable(Exception):
    """A stream transport could not be used (or dropped); try the next one."""


async def websocket_messages(core: HttpCore, job_id: str) -> AsyncGenerator[JobMessage, None]:
    try:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, WebSocketException
    except ImportError as exc:  # the optional dependency is missing
        raise StreamUnavailable("websockets is not installed") from exc
    url = f"{core.websocket_url}/api/v1/jobs/{job_id}/ws"
    try:
        async with connect(
            url,
            additional_headers={"Authorization": f"Bearer {core._token}"},
            open_timeout=core.timeout,
        ) as socket:
            async for raw in socket:
                yield JOB_MESSAGE.validate_json(raw)
    except ConnectionClosed as exc:
        refusal = _refusal(exc)
        if refusal is not None:
            raise refusal from exc
        raise StreamUnavailable(f"websocket: {exc}") from exc
    except (OSError, TimeoutError, WebSocketException) as exc:
        raise StreamUnavailable(f"websocket: {exc}") from exc


async def sse_messages(
    core: HttpCore, job_id: str, after_seq: int
) -> AsyncGenerator[JobMessage, None]:
    headers = {"Accept": "text/event-stream"}
    if after_seq >= 0:
        headers["Last-Event-ID"] = str(after_seq)
    # The service pings every 15 s; a read timeout well past that means a dead stream.
    timeout = httpx.Timeout(core.timeout, read=max(core.timeout, 45.0))
    path = f"/api/v1/jobs/{job_id}/events"
    try:
        async with core._http.stream("GET", path, headers=headers, timeout=timeout) as response:
            if response.status_code != 200:
                await response.aread()
                error = error_of(response)
                if _about_the_job(error):  # e.g. 404 job_not_found, 410, 401
                    raise error
                raise StreamUnavailable(f"sse: {error}")
            if not response.headers.get("content-type", "").startswith("text/event-stream"):
                raise StreamUnavailable("sse: not an event stream")
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
        raise StreamUnavailable(f"sse: {exc!r}") from exc


async def polled_messages(core: HttpCore, job_id: str) -> AsyncGenerator[JobMessage, None]:
    path = f"/api/v1/jobs/{job_id}"
    response = await core._request("GET", path)
    timeout = max(core.timeout, core.poll_wait_s + 10)
    while True:
        if response.status_code != 304:
            job = Job.model_validate(response.json()["data"])
            yield message_of(job)
            if job.status.terminal:
                return
        response = await core._request(
            "GET",
            path,
            params={"wait": core.poll_wait_s},
            headers={"If-None-Match": response.headers.get("etag", "")},
            request_timeout=timeout,
        )


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
