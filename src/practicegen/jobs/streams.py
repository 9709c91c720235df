"""Following a job live, by WebSocket or Server-Sent Events: `status` while the job runs, then
one of `completed`, `failed` or `cancelled`, each with `seq`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Header, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from practicegen.api.container import Container
from practicegen.api.deps import ContainerDep
from practicegen.api.errors import error_response, status_for
from practicegen.auth.deps import BriefPrincipalDep, authenticate_briefly
from practicegen.auth.principal import Principal
from practicegen.db.reconnect import Backoff
from practicegen.errors import PracticegenError, ServiceBusy
from practicegen.jobs.endpoints import read_job, shown
from practicegen.jobs.events import JobChange, News
from practicegen.jobs.followers import FollowedJob
from practicegen.jobs.parts import JobParts
from practicegen.jobs.registry import JobTypes
from practicegen.jobs.schemas import JobStatus

log = structlog.get_logger()
router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])
DATABASE_BUSY = (OperationalError, PoolTimeout)  # a read worth retrying: the database is busy


def message(job: FollowedJob, reader: Principal, views: JobTypes) -> dict[str, Any]:
    """The job's message as `reader` may see it (its result through the job type's view)."""
    status = JobStatus(job.status)
    if status is JobStatus.COMPLETED:
        result = views.result(reader, job.job_type, job.result)
        return {"type": "completed", "result": result, "seq": job.seq}
    if status in (JobStatus.FAILED, JobStatus.CANCELLED):
        return {"type": status.value, "error": job.error, "seq": job.seq}
    return progress_message(JobChange.of(job))


def progress_message(change: JobChange) -> dict[str, Any]:
    """The `status` message of a running job, straight from its change signal."""
    return {
        "type": "status",
        "status": change.status,
        "progress_percent": change.progress_percent,
        "progress_message": change.progress_message,
        "seq": change.seq,
    }


async def job_updates(
    container: Container, principal: Principal, job_id: uuid.UUID, after_seq: int = -1
) -> AsyncGenerator[dict[str, Any], None]:
    """The job's message now (first, so a refusal comes before any answer), then one per change
    past it and `after_seq` up to its end, which a busy database delays but never ends."""
    jobs = container.part(JobParts)
    with jobs.changes.watch(job_id) as watch:
        job = await read_job(container, principal, job_id)
        backoff = Backoff.from_settings(container.settings)
        update = message(job, principal, jobs.types)
        watch.seen = max(after_seq, update["seq"])
        yield update
        while update["type"] == "status":
            await watch.changed.wait()
            update = await _next_update(container, principal, watch.take(), job_id, backoff)
            if update["seq"] > watch.seen:
                watch.seen = update["seq"]
                yield update


async def _next_update(
    container: Container, principal: Principal, news: News, job_id: uuid.UUID, backoff: Backoff
) -> dict[str, Any]:
    """The message `news` makes: its newest change or read, or the follower's own read."""
    views = container.part(JobParts).types
    change, read, stale = news
    if stale or (read is None and change is None):
        return message(await _read_again(container, principal, job_id, backoff), principal, views)
    if read is not None and (change is None or (change.seq or -1) <= read.seq):
        return message(shown(container, principal, job_id, read), principal, views)
    assert change is not None
    return progress_message(change)


async def _read_again(
    container: Container, principal: Principal, job_id: uuid.UUID, backoff: Backoff
) -> FollowedJob:
    """`read_job` for a follower already following: through a database outage, until it reads."""
    while True:
        try:
            job = await read_job(container, principal, job_id)
            backoff.reset()
            return job
        except DATABASE_BUSY as exc:
            delay = backoff.next_delay()
            log.warning("jobs.follower_read_failed", error=str(exc)[:200], retry_in_s=delay)
            await asyncio.sleep(delay)


def _websocket_token(websocket: WebSocket) -> tuple[str | None, str | None]:
    """(token, subprotocol to accept) from the header, the subprotocol list or the query."""
    header = websocket.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip(), None
    offered = [p.strip() for p in websocket.headers.get("sec-websocket-protocol", "").split(",")]
    if len(offered) >= 2 and offered[0].lower() == "bearer":
        return offered[1], "bearer"
    return websocket.query_params.get("token"), None


Updates = AsyncGenerator[dict[str, Any], None]


@router.websocket("/{job_id}/ws")
async def job_websocket(websocket: WebSocket, job_id: uuid.UUID, container: ContainerDep) -> None:
    await follow_websocket(
        websocket, container, lambda principal: job_updates(container, principal, job_id)
    )


async def follow_websocket(
    websocket: WebSocket, container: Container, start: Callable[[Principal], Updates]
) -> None:
    """Authenticate the socket, then send what `start(principal)` yields until either ends."""
    settings = container.settings
    origin = websocket.headers.get("origin")
    if origin is not None and settings.cors_origins and origin not in settings.cors_origins:
        await websocket.close(code=1008, reason="origin not allowed")  # refused at handshake
        return
    token, subprotocol = _websocket_token(websocket)
    try:
        updates = start(await authenticate_briefly(token, container))
        first = await anext(updates)
    except (ServiceBusy, *DATABASE_BUSY) as exc:
        await _busy(websocket, exc)
        return
    except PracticegenError as exc:
        # a refused handshake reaches a browser as 1006: accept, then close with 4000 + status
        await websocket.accept(subprotocol=subprotocol)
        await websocket.close(code=4000 + status_for(exc), reason=exc.code)
        return
    await websocket.accept(subprotocol=subprotocol)
    sender = asyncio.create_task(_send_all(websocket, first, updates))
    reader = asyncio.create_task(_until_disconnect(websocket))
    try:
        # a client leaving while the job is idle ends the handler now, not at its next change
        await asyncio.wait({sender, reader}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        sender.cancel()
        reader.cancel()
        await asyncio.wait({sender, reader})
        await updates.aclose()


async def _busy(websocket: WebSocket, exc: Exception) -> None:
    """Answer the handshake `503` with `Retry-After` ("connect again later"), not accept and
    close, which clients take as the job's own refusal."""
    busy = exc if isinstance(exc, ServiceBusy) else ServiceBusy()
    if isinstance(exc, DATABASE_BUSY):
        log.warning("jobs.follower_read_failed", error=str(exc)[:200])
    headers = {"Retry-After": str(busy.retry_after_s)}
    response = error_response(status_for(busy), busy.code, busy.message, busy.details, headers)
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(response)
    else:  # a server without the extension: the closest a client can act on
        await websocket.close(code=1013, reason=busy.code)


async def _send_all(websocket: WebSocket, first: dict[str, Any], updates: Updates) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):  # the client went away mid-send
        await websocket.send_json(first)
        async for update in updates:
            await websocket.send_json(update)
        await websocket.close(code=1000)


async def _until_disconnect(websocket: WebSocket) -> None:
    """Frames from the client, text or binary, are read and ignored until it leaves."""
    with contextlib.suppress(RuntimeError):
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass


@router.get("/{job_id}/events", response_class=StreamingResponse)
async def job_events(
    job_id: uuid.UUID,
    request: Request,
    container: ContainerDep,
    principal: BriefPrincipalDep,
    last_event_id: Annotated[str | None, Header(max_length=20)] = None,
) -> StreamingResponse:
    """Server-Sent Events: `id:` is the job's seq, so `Last-Event-ID` resumes where it left. A
    refusal comes before the stream starts: a 200 that broke off would reconnect for ever."""
    after = int(last_event_id) if last_event_id and last_event_id.isdigit() else -1
    updates = job_updates(container, principal, job_id, after)
    first = await anext(updates)  # errors (404, 410, 503) surface before the stream starts
    head = [sse(first)] if first["seq"] > after else []
    return event_stream(head, updates, request, container.settings.sse_ping_s)


def _seq(update: dict[str, Any]) -> object:
    return update.get("seq")


def event_stream(
    head: list[str],
    updates: Updates,
    request: Request,
    ping_s: float,
    event_id: Callable[[dict[str, Any]], object] = _seq,
) -> StreamingResponse:
    """`head`, then each update as a Server-Sent Event, pinging while none comes."""

    async def stream() -> AsyncIterator[str]:
        for chunk in head:
            yield chunk
        pending: asyncio.Task[dict[str, Any]] | None = None
        try:
            while not await request.is_disconnected():
                pending = pending or asyncio.ensure_future(anext(updates))
                done, _ = await asyncio.wait({pending}, timeout=ping_s)
                if not done:
                    yield ": ping\n\n"
                    continue
                try:
                    update = pending.result()
                except StopAsyncIteration:
                    return
                pending = None
                yield sse(update, event_id)
        finally:  # a read still in flight first: the generator cannot close while it runs
            if pending is not None:
                pending.cancel()
                await asyncio.wait({pending})
            await updates.aclose()

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def sse(update: dict[str, Any], event_id: Callable[[dict[str, Any]], object] = _seq) -> str:
    """One Server-Sent Event: `id:` what `event_id` reads (the update's `seq`), when any."""
    event = f"event: {update['type']}\ndata: {json.dumps(update, default=str)}\n\n"
    identity = event_id(update)
    return event if identity is None else f"id: {identity}\n{event}"
