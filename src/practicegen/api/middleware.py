"""The outermost layer of every request: request id, body-size limit, text the databases can
hold (`text.py`), access log, last resort. Plain ASGI, so that streaming responses and
WebSockets pass through untouched and no task is spawned per request."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from practicegen.api import text
from practicegen.api.errors import error_response, status_for
from practicegen.errors import InvalidText, PayloadTooLarge

log = structlog.get_logger()
_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_BODILESS = frozenset({"GET", "HEAD", "OPTIONS"})


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        offered = Headers(scope=scope).get("x-request-id")
        request_id = offered if offered and _CLIENT_REQUEST_ID.match(offered) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        await self._http(scope, receive, send, request_id)

    async def _http(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        started = time.perf_counter()
        state: dict[str, Any] = {"status": 500, "started": False}
        api = str(scope.get("path", "")).startswith("/api/")

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["started"] = True
                state["status"] = message["status"]
                headers = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
                if api and not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))  # never cache API answers
                message["headers"] = headers
            await send(message)

        try:
            receive = await self._admitted(scope, receive)
            await self.app(scope, receive, send_with_id)
        except (PayloadTooLarge, InvalidText) as exc:
            if state["started"]:
                raise
            response = error_response(status_for(exc), exc.code, exc.message, exc.details)
            await response(scope, receive, send_with_id)
        except Exception:
            log.exception("http.unhandled_error", path=scope.get("path"))
            if state["started"]:
                raise
            response = error_response(500, "internal_error", "Something went wrong on our side.")
            await response(scope, receive, send_with_id)
        finally:
            log.info(
                "http.request",
                method=scope.get("method"),
                path=scope.get("path"),
                status=state["status"],
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )

    async def _admitted(self, scope: Scope, receive: Receive) -> Receive:
        """`receive`, once the request passed the size limit and the text rules (its body read)."""
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            raise PayloadTooLarge(limit_bytes=self.max_body_bytes)
        text.check_target(str(scope.get("path", "")), scope.get("query_string", b""))
        if scope.get("method") in _BODILESS and declared in (None, "0"):
            return receive
        receive, body = await self._buffered(receive)
        text.check_body(body)
        return receive

    async def _buffered(self, receive: Receive) -> tuple[Receive, bytes]:
        """Read a body up to the limit, then replay it; and the body. Not while the endpoint
        reads, as FastAPI turns any error raised then into a generic 400."""
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                first = message
                break
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > self.max_body_bytes:
                raise PayloadTooLarge(limit_bytes=self.max_body_bytes)
            if not message.get("more_body", False):
                first = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
                break
        unsent = [first]

        async def replay() -> Message:
            return unsent.pop() if unsent else await receive()

        return replay, first.get("body", b"") if first["type"] == "http.request" else b""
