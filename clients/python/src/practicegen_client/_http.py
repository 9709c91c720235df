"""Requests and retries: the one place the client talks HTTP outside a job's event stream.

A 429 or 5xx answer (and a connection that could not be opened) is retried up to `max_retries`
times: after the service's `Retry-After` when it sends one, else after an exponential backoff
with jitter. A GET (or another idempotent request) whose kept-alive connection the server closed
under it is sent again at once; a POST is not, since it may have been taken. Other 4xx answers
are never retried; every error answer raises a typed `PracticegenAPIError` subclass.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal, TypedDict, Unpack

import httpx

from practicegen_client.errors import PracticegenAPIError, error_for, parse_retry_after

_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

StreamTransport = Literal["websocket", "sse", "poll"]
DEFAULT_TRANSPORTS: tuple[StreamTransport, ...] = ("websocket", "sse", "poll")
IdOf = uuid.UUID | str


class ClientOptions(TypedDict, total=False):
    """The keyword arguments of `AsyncClient` and `Client`, each optional (default after it)."""

    timeout: float  # 30 s: each request, and opening a WebSocket
    max_retries: int  # 3: for 429, 5xx and connections that could not be opened
    transport: httpx.AsyncBaseTransport | None  # passed to httpx
    websocket_url: str | None  # the base URL with ws:// or wss://
    stream_transports: Sequence[StreamTransport]  # ("websocket", "sse", "poll"), tried in order
    backoff_base_s: float  # 0.5: the first backoff; it doubles with each retry
    backoff_max_s: float  # 8.0: the longest backoff
    max_retry_after_s: float  # 60.0: a longer Retry-After is cut to this
    poll_wait_s: float  # 20.0: how long one long-poll asks the service to hold


def id_of(value: IdOf) -> str:
    """A UUID given as a UUID or a string, in canonical form (a malformed one raises)."""
    return str(uuid.UUID(str(value)))


class HttpCore:
    """The connection to one service with one token; `AsyncClient` adds the endpoints.

    `base_url` is the service's root (e.g. `http://127.0.0.1:8000`); `token` an API key or a
    student token; `options` are `ClientOptions`. `transport` is passed to httpx (e.g.
    `httpx.MockTransport` in tests, or a transport with custom TLS). `websocket_url` overrides
    the WebSocket root; `stream_transports` chooses which ways of following a job are tried, in
    order. Use it as an async context manager, or call `aclose()`.
    """

    def __init__(self, base_url: str, token: str, **options: Unpack[ClientOptions]) -> None:
        timeout = options.get("timeout", 30.0)
        max_retries = options.get("max_retries", 3)
        stream_transports = options.get("stream_transports", DEFAULT_TRANSPORTS)
        websocket_url = options.get("websocket_url")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        unknown = set(stream_transports) - set(DEFAULT_TRANSPORTS)
        if unknown or not stream_transports:
            raise ValueError(f"stream_transports must be taken from {DEFAULT_TRANSPORTS}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.stream_transports = tuple(stream_transports)
        self.backoff_base_s = options.get("backoff_base_s", 0.5)
        self.backoff_max_s = options.get("backoff_max_s", 8.0)
        self.max_retry_after_s = options.get("max_retry_after_s", 60.0)
        self.poll_wait_s = options.get("poll_wait_s", 20.0)
        if websocket_url is None:
            websocket_url = "ws" + self.base_url.removeprefix("http")
        self.websocket_url = websocket_url.rstrip("/")
        self._token = token
        self._sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout,
            transport=options.get("transport"),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: a random delay in [d/2, d], d = base * 2**attempt."""
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2.0**attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        request_timeout: float | None = None,
    ) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = await self._http.request(
                    method,
                    path,
                    json=json_body,
                    params=params,
                    headers=headers,
                    timeout=httpx.USE_CLIENT_DEFAULT
                    if request_timeout is None
                    else request_timeout,
                )
            except (httpx.ConnectError, httpx.ConnectTimeout):
                if attempt >= self.max_retries:  # the request never left: safe to retry
                    raise
                await self._sleep(self._backoff(attempt))
                attempt += 1
                continue
            except (httpx.ReadError, httpx.RemoteProtocolError):
                # A kept-alive connection the server closed as this request went out on it.
                if method not in _IDEMPOTENT or attempt >= self.max_retries:
                    raise
                attempt += 1
                continue
            status = response.status_code
            if (status == 429 or status >= 500) and attempt < self.max_retries:
                after = parse_retry_after(response.headers.get("retry-after"))
                delay = self._backoff(attempt) if after is None else after
                await self._sleep(min(delay, self.max_retry_after_s))
                attempt += 1
                continue
            if status >= 400:
                raise error_of(response)
            return response

    async def _data(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        response = await self._request(method, path, json_body=json_body, params=params)
        return response.json()["data"]


def error_of(response: httpx.Response) -> PracticegenAPIError:
    """The typed exception for an error answer (its body read if it is JSON)."""
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    return error_for(response.status_code, body, dict(response.headers))
