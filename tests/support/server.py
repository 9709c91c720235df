"""The app for a test: a real uvicorn server on a free loopback port, inside the test's event
loop, or in process (`in_process_client`) where a socket adds nothing."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import uvicorn
from starlette.types import Receive, Scope, Send

from practicegen.app import create_app
from practicegen.clock import Clock, utcnow
from practicegen.config import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    settings: Settings


@asynccontextmanager
async def running_server(
    settings: Settings, *, clock: Clock = utcnow
) -> AsyncIterator[RunningServer]:
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, clock),
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(20):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("server stopped before starting")
                await asyncio.sleep(0.01)
        yield RunningServer(base_url=f"http://127.0.0.1:{port}", settings=settings)
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def in_process_client(
    settings: Settings, *, clock: Clock = utcnow, headers: dict[str, str] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A client that calls the app in this process, its lifespan running around the block.

    A server copies the lifespan's state (the node's container) into each request's scope;
    httpx's ASGI transport runs no lifespan, so this does both."""
    app = create_app(settings, clock)
    async with app.router.lifespan_context(app) as state:

        async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
            await app({**scope, "state": dict(state or {})}, receive, send)

        transport = httpx.ASGITransport(app=with_state)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=headers, timeout=30
        ) as client:
            yield client
