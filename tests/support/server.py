"""The app for tests: started once per test, answered in process or by a real uvicorn server.

`started_app` runs the app's lifespan around a block, as a server would, and gives an ASGI
callable that hands each request the state the lifespan yielded. `in_process_client` calls it
with no socket (`asgi.StreamingASGITransport`): most tests send requests and read answers, and a
port, a server loop and its shutdown tick add time and nothing else. `serving` puts a real
uvicorn server in front of the same started app for what needs a socket (WebSocket, event
streams, other processes, the clients' own transports); `running_server` does both.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from practicegen.app import create_app
from practicegen.clock import Clock, utcnow
from practicegen.config import Settings
from tests.support.asgi import StreamingASGITransport

IN_PROCESS_URL = "http://127.0.0.1"
"""The base URL of an in-process client; requests come from a loopback address, as in tests
with a real server."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    settings: Settings


class _Server(uvicorn.Server):
    """uvicorn's server, stopped at once rather than at its loop's next tick (every 0.1 s)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self.should_exit = True
        self._stopping.set()

    async def main_loop(self) -> None:
        await self._stopping.wait()


class StartedApp:
    """The app after its lifespan's startup: each request gets a copy of the lifespan's state,
    as uvicorn gives it."""

    def __init__(self, app: ASGIApp, state: Mapping[str, Any] | None) -> None:
        self.app = app
        self.state = dict(state or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "state": self.state.copy()}
        await self.app(scope, receive, send)


@asynccontextmanager
async def started_app(settings: Settings, *, clock: Clock = utcnow) -> AsyncIterator[StartedApp]:
    """The app built from `settings`, its lifespan started before the block and ended after."""
    app = create_app(settings, clock)
    async with app.router.lifespan_context(app) as state:
        yield StartedApp(app, state)


def in_process_client(app: StartedApp, **options: Any) -> httpx.AsyncClient:
    transport = StreamingASGITransport(app)
    return httpx.AsyncClient(transport=transport, base_url=IN_PROCESS_URL, **options)


@asynccontextmanager
async def serving(app: StartedApp, settings: Settings) -> AsyncIterator[RunningServer]:
    """A uvicorn server for an app already started, on a free loopback port."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off"
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(20):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("server stopped before starting")
                await asyncio.sleep(0.005)
        yield RunningServer(base_url=f"http://127.0.0.1:{port}", settings=settings)
    finally:
        server.stop()
        await task


@asynccontextmanager
async def running_server(
    settings: Settings, *, clock: Clock = utcnow
) -> AsyncIterator[RunningServer]:
    async with started_app(settings, clock=clock) as app, serving(app, settings) as running:
        yield running
