"""Following a batch live, by WebSocket or Server-Sent Events: the batch as it is now, then a
`job` message per change of a student's job, `status` messages of the batch's progress, and one
`completed` (or `failed`, `cancelled`) once every student's job has ended.

The stream merges the job streams of the batch and of each student's job, so it is as live as
theirs and costs what they cost; it has no position to resume from: a client that reconnects
gets the whole batch again in its first message.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import uuid
from collections.abc import AsyncGenerator, Callable
from typing import Any

from fastapi import APIRouter, Request, WebSocket
from fastapi.responses import StreamingResponse

from practicegen.api.container import Container
from practicegen.api.deps import ContainerDep
from practicegen.auth.deps import BriefPrincipalDep
from practicegen.auth.principal import Principal
from practicegen.batches import service
from practicegen.errors import PracticegenError
from practicegen.jobs.parts import JobParts
from practicegen.jobs.schemas import JobStatus
from practicegen.jobs.streams import Updates, event_stream, follow_websocket, job_updates, sse

router = APIRouter(prefix="/api/v1/batches", tags=["batches"])
_ENDS = {status.value for status in JobStatus if status.terminal}


def _student_message(
    job_id: uuid.UUID, student_id: uuid.UUID, update: dict[str, Any]
) -> dict[str, Any]:
    """A student's job update, without its result (read the job for the assignment)."""
    status = update.get("status", update["type"])
    return {
        "type": "job",
        "job_id": str(job_id),
        "student_id": str(student_id),
        "status": status,
        "progress_percent": update.get("progress_percent", 100),
        "progress_message": update.get("progress_message"),
    }


def _batch_message(update: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in update.items() if key != "seq"}


async def batch_updates(
    container: Container, principal: Principal, batch_id: uuid.UUID
) -> AsyncGenerator[dict[str, Any], None]:
    async with container.reading_sessionmaker() as session:
        views = container.part(JobParts).types
        now = container.clock()
        batch = await service.get_batch(
            session, principal=principal, batch_id=batch_id, now=now, views=views
        )
    yield {"type": "batch", **batch.model_dump(mode="json")}
    merged: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    streams: list[tuple[Updates, Callable[[dict[str, Any]], dict[str, Any]]]] = [
        (job_updates(container, principal, batch_id), _batch_message)
    ]
    for job in batch.jobs:
        wrap = functools.partial(_student_message, job.job_id, job.student_id)
        streams.append((job_updates(container, principal, job.job_id), wrap))
    pumps = [asyncio.create_task(_pump(updates, wrap, merged)) for updates, wrap in streams]
    last: dict[str, str] = {}
    try:
        while True:
            update = await merged.get()
            if update["type"] == "job":
                last[update["job_id"]] = update["status"]
            elif update["type"] in _ENDS:
                for job in update.get("result", {}).get("jobs", []):
                    if last.get(job["job_id"]) not in _ENDS:  # said before the batch's end
                        yield {
                            "type": "job",
                            "progress_percent": 100,
                            "progress_message": None,
                            **job,
                        }
                yield update
                return
            yield update
    finally:
        for pump in pumps:
            pump.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
        for updates, _ in streams:
            await updates.aclose()


async def _pump(
    updates: Updates,
    wrap: Callable[[dict[str, Any]], dict[str, Any]],
    into: asyncio.Queue[dict[str, Any]],
) -> None:
    with contextlib.suppress(PracticegenError):  # a job gone from view stops only its own news
        async for update in updates:
            await into.put(wrap(update))


@router.websocket("/{batch_id}/ws")
async def batch_websocket(
    websocket: WebSocket, batch_id: uuid.UUID, container: ContainerDep
) -> None:
    await follow_websocket(
        websocket, container, lambda principal: batch_updates(container, principal, batch_id)
    )


@router.get("/{batch_id}/events", response_class=StreamingResponse)
async def batch_events(
    batch_id: uuid.UUID, request: Request, container: ContainerDep, principal: BriefPrincipalDep
) -> StreamingResponse:
    """Server-Sent Events of the batch; errors (403, 404, 410) come before the stream starts."""
    updates = batch_updates(container, principal, batch_id)
    first = await anext(updates)
    return event_stream([sse(first)], updates, request, container.settings.sse_ping_s)
