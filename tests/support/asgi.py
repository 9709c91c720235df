"""An httpx transport that calls an ASGI app in process and streams its answer as a server does.

httpx's own `ASGITransport` returns a response only once the app has finished it, so an event
stream or a long answer read as it comes would never return; here the response returns at
`http.response.start` and its body follows as the app sends it. Closing the response before
its end is the client's disconnect, as the app would see it from a server. An app that fails
answers 500, as uvicorn answers (its error is logged by the app's own handlers).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, MutableMapping
from typing import Any

import httpx
from starlette.types import ASGIApp

Message = MutableMapping[str, Any]
log = logging.getLogger(__name__)


class _Body(httpx.AsyncByteStream):
    def __init__(self, chunks: asyncio.Queue[bytes | None], task: asyncio.Task[None]) -> None:
        self._chunks = chunks
        self._task = task
        self.closed = asyncio.Event()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (chunk := await self._chunks.get()) is not None:
            yield chunk

    async def aclose(self) -> None:
        self.closed.set()  # the app's next `receive` is the client's disconnect
        try:
            await asyncio.wait_for(asyncio.shield(self._task), 10)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class StreamingASGITransport(httpx.AsyncBaseTransport):
    def __init__(self, app: ASGIApp, client: tuple[str, int] = ("127.0.0.1", 50000)) -> None:
        self.app = app
        self.client = client

    def _scope(self, request: httpx.Request) -> dict[str, Any]:
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "headers": [(k.lower(), v) for (k, v) in request.headers.raw],
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query,
            "server": (request.url.host, request.url.port),
            "client": self.client,
            "root_path": "",
        }

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        sent = request.stream.__aiter__()
        chunks: asyncio.Queue[bytes | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        started: asyncio.Future[Message] = loop.create_future()
        answered: asyncio.Future[_Body] = loop.create_future()
        request_done = False

        async def receive() -> Message:
            nonlocal request_done
            if not request_done:
                try:
                    return {"type": "http.request", "body": await anext(sent), "more_body": True}
                except StopAsyncIteration:
                    request_done = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            await (await answered).closed.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.set_result(message)
            elif message["type"] == "http.response.body":
                if message.get("body") and request.method != "HEAD":
                    chunks.put_nowait(message["body"])
                if not message.get("more_body", False):
                    chunks.put_nowait(None)

        async def run() -> None:
            try:
                await self.app(self._scope(request), receive, send)
            except Exception:
                log.exception("in-process request failed")
            finally:
                if not started.done():
                    started.set_result({"status": 500, "headers": []})
                chunks.put_nowait(None)

        task = asyncio.create_task(run())
        try:
            start = await started
        except asyncio.CancelledError:
            task.cancel()
            raise
        body = _Body(chunks, task)
        answered.set_result(body)
        return httpx.Response(start["status"], headers=start.get("headers", []), stream=body)
