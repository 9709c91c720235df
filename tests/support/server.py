"""A real uvicorn server for the app, on a free loopback port, inside the test's event loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import uvicorn

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
