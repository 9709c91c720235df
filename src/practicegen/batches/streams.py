"""Following a batch live: the batch now, then its students' job changes and its own, merged
from their job streams, each message after the first carrying its `position` (an `id:`)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import uuid
from collections.abc import AsyncGenerator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, WebSocket
from fastapi.responses import StreamingResponse

from practicegen.api.container import Container
from practicegen.api.deps import ContainerDep
from practicegen.auth.deps import BriefPrincipalDep
from practicegen.auth.principal import Principal
from practicegen.batches import service, tasks
from practicegen.batches.positions import Position
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
    return {
        "type": "job",
        "job_id": str(job_id),
        "student_id": str(student_id),
        "status": update.get("status", update["type"]),
        "progress_percent": update.get("progress_percent", 100),
        "progress_message": update.get("progress_message"),
    }


async def batch_updates(
    container: Container, principal: Principal, batch_id: uuid.UUID, resume: Position | None = None
) -> AsyncGenerator[dict[str, Any], None]:
    """The batch now (first, so a refusal comes before any stream), then its news past `resume`."""
    views = container.part(JobParts).types
    async with container.reading_sessionmaker() as session:
        found = await service.find_batch(
            session, principal=principal, batch_id=batch_id, now=container.clock(), views=views
        )
        batch = await service.show_batch(session, found)
    yield {"type": "batch", **batch.model_dump(mode="json")}
    position = resume or Position()
    # by the batch's own list of students: a job not found shifts no other's place
    places = {str(job_id): place for job_id, place in tasks.places(found).items()}
    merged: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    streams: list[tuple[Updates, Callable[[dict[str, Any]], dict[str, Any]]]] = [
        (job_updates(container, principal, batch_id), dict)
    ]
    for job in batch.jobs:
        if places[str(job.job_id)] not in position.ended:  # an ended job has no more to tell
            wrap = functools.partial(_student_message, job.job_id, job.student_id)
            streams.append((job_updates(container, principal, job.job_id), wrap))
    pumps = [asyncio.create_task(_pump(updates, wrap, merged)) for updates, wrap in streams]
    try:
        while True:
            update = await merged.get()
            told, position = _told(update, places, position)
            for message in told:
                yield message
            if update["type"] in _ENDS:
                return
    finally:
        for pump in pumps:
            pump.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
        for updates, _ in streams:
            await updates.aclose()


def _told(
    update: dict[str, Any], places: dict[str, int], position: Position
) -> tuple[list[dict[str, Any]], Position]:
    """What the client at `position` is told of `update` (each end once), and where it leaves it."""
    told: list[dict[str, Any]] = []
    if update["type"] == "job":
        place = places[update["job_id"]]
        if place not in position.ended:
            if update["status"] in _ENDS:
                position = position.after(ended=[place])
            told.append({**update, "position": position.token()})
        return told, position
    news = {key: value for key, value in update.items() if key != "seq"}
    if update["type"] in _ENDS:
        for job in update.get("result", {}).get("jobs", []):
            place = places.get(job["job_id"], -1)  # -1: a job gone from the batch's list
            if place >= 0 and place not in position.ended:
                position = position.after(ended=[place])
                ended = {"type": "job", "progress_percent": 100, "progress_message": None}
                told.append({**ended, **job, "position": position.token()})
    if update["seq"] > position.batch_seq:
        position = position.after(batch_seq=update["seq"])
        told.append({**news, "position": position.token()})
    return told, position


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
    batch_id: uuid.UUID,
    request: Request,
    container: ContainerDep,
    principal: BriefPrincipalDep,
    last_event_id: Annotated[str | None, Header(max_length=2048)] = None,
) -> StreamingResponse:
    """Server-Sent Events of the batch, `id:` its position, which `Last-Event-ID` resumes."""
    resume = Position.parse(last_event_id)
    updates = batch_updates(container, principal, batch_id, resume)
    first = await anext(updates)
    head = [] if resume else [sse(first)]
    ping_s = container.settings.sse_ping_s
    return event_stream(head, updates, request, ping_s, lambda update: update.get("position"))
