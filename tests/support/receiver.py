"""A real HTTP webhook receiver on loopback, scripted to fail its first N requests."""

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
    received: list[Received] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_for(self, count: int, timeout_s: float = 30) -> list[Received]:
        async with asyncio.timeout(timeout_s):
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.received


@asynccontextmanager
async def webhook_receiver(fail_first: int = 0, fail_status: int = 503) -> AsyncIterator[Receiver]:
    port = free_port()
    receiver = Receiver(
        url=f"http://127.0.0.1:{port}/hook", fail_first=fail_first, fail_status=fail_status
    )

    async def hook(request: Request) -> Response:
        receiver.received.append(Received(dict(request.headers), await request.body()))
        receiver.arrived.set()
        if len(receiver.received) <= receiver.fail_first:
            return Response(status_code=receiver.fail_status)
        return Response(status_code=204)

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
        server.should_exit = True
        await task
