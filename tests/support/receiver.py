"""A real HTTP webhook receiver on loopback, scripted to fail its first N requests, or to
hang: to answer nothing until the receiver is closed, as a dead receiver behind a live proxy."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.server import free_port


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    fail_first: int = 0
    fail_status: int = 503
    hang: bool = False
    received: list[Received] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    open_now: int = 0
    """Requests being answered (or hung) at this moment."""
    most_open: int = 0
    """The most requests that were open at once."""
    closing: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_for(self, count: int, timeout_s: float = 30) -> list[Received]:
        async with asyncio.timeout(timeout_s):
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.received


async def _until_closed_or_gone(request: Request, closing: asyncio.Event) -> None:
    """Wait until the receiver closes or the sender hangs up (the body was read: the next
    message uvicorn gives the app is the disconnect)."""
    waits = {asyncio.ensure_future(request.receive()), asyncio.ensure_future(closing.wait())}
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


@asynccontextmanager
async def webhook_receiver(
    fail_first: int = 0, fail_status: int = 503, *, hang: bool = False
) -> AsyncIterator[Receiver]:
    port = free_port()
    receiver = Receiver(
        url=f"http://127.0.0.1:{port}/hook",
        fail_first=fail_first,
        fail_status=fail_status,
        hang=hang,
    )

    async def hook(request: Request) -> Response:
        receiver.received.append(Received(dict(request.headers), await request.body()))
        receiver.arrived.set()
        receiver.open_now += 1
        receiver.most_open = max(receiver.most_open, receiver.open_now)
        try:
            if receiver.hang:
                await _until_closed_or_gone(request, receiver.closing)
            if len(receiver.received) <= receiver.fail_first:
                return Response(status_code=receiver.fail_status)
            return Response(status_code=204)
        finally:
            receiver.open_now -= 1

    app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event for this)
        await asyncio.sleep(0.01)
    try:
        yield receiver
    finally:
        receiver.closing.set()
        server.should_exit = True
        await task
