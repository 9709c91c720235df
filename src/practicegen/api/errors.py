"""Maps every failure to the error envelope `{"success": false, "error": {code, message, details}}`,
the one place that turns a `PracticegenError` class into a status."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import psycopg
import psycopg_pool
import structlog
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from practicegen import errors

log = structlog.get_logger()
_Handler = Callable[[Request, Exception], Awaitable[JSONResponse]]

_STATUS_BY_ERROR: dict[type[errors.PracticegenError], int] = {
    errors.InvalidRequest: 422,
    errors.NotAuthenticated: 401,
    errors.PermissionDenied: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.PayloadTooLarge: 413,
    errors.Gone: 410,
    errors.RateLimited: 429,
    errors.ServiceBusy: 503,
}
_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def status_for(exc: errors.PracticegenError) -> int:
    return next((_STATUS_BY_ERROR[c] for c in type(exc).__mro__ if c in _STATUS_BY_ERROR), 500)


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = {
        "success": False,
        "error": {"code": code, "message": message, "details": jsonable_encoder(details or {})},
    }
    return JSONResponse(body, status_code=status, headers=dict(headers) if headers else None)


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.PracticegenError)
    status = status_for(exc)
    if status >= 500 and not isinstance(exc, errors.ServiceBusy):  # a refusal, not a fault
        log.error("http.domain_error", code=exc.code, message=exc.message)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(exc, errors.RateLimited | errors.ServiceBusy):
        headers = {"Retry-After": str(exc.retry_after_s)}
    return error_response(status, exc.code, exc.message, exc.details, headers)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {
            "field": ".".join(str(p) for p in err.get("loc", ())[1:]) or "body",
            "location": str(err.get("loc", ("body",))[0]),
            "message": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in exc.errors()
    ]


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = {"errors": _field_errors(exc)}
    if any(f["type"] == "json_invalid" for f in details["errors"]):
        return error_response(400, "malformed_json", "The request body is not valid JSON.", details)
    return error_response(422, "validation_error", "The request did not pass validation.", details)


def _allowed_methods(request: Request) -> str:
    """Every method some route at this path answers (Starlette's 405 names the first route's)."""

    def answers(method: str) -> bool:
        scope = {**request.scope, "method": method}
        return any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes)

    return ", ".join(method for method in _METHODS if answers(method))  # _METHODS is sorted


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return error_response(exc.status_code, code, str(exc.detail), headers=headers or None)


def _unavailable(event: str, code: str, message: str, retry_after_s: int) -> _Handler:
    """A handler for what the node needs being busy or down: a 503 that says to retry."""

    async def handle(_request: Request, exc: Exception) -> JSONResponse:
        detail = str(getattr(exc, "orig", None) or exc).strip()
        log.warning(event, error=detail.splitlines()[0][:300] if detail else repr(exc))
        return error_response(503, code, message, headers={"Retry-After": str(retry_after_s)})

    return handle


_POOL_EXHAUSTED = _unavailable(
    "db.pool_exhausted",
    "service_busy",
    "Every database connection of this node is busy; retry shortly.",
    retry_after_s=1,
)
_DATABASE_UNAVAILABLE = _unavailable(
    "db.unavailable",
    "database_unavailable",
    "The database is not answering; retry shortly.",
    retry_after_s=2,
)
_PROCESSES_UNAVAILABLE = _unavailable(
    "pools.unavailable",
    "processes_unavailable",
    "This node could not start its grading or generator processes; retry shortly.",
    retry_after_s=5,
)


def install_error_handlers(
    app: FastAPI, *, processes_unavailable: tuple[type[Exception], ...] = ()
) -> None:
    """Every handler; `processes_unavailable`: errors of a pool that could not start."""
    handlers: dict[type[Exception], _Handler] = {
        errors.PracticegenError: _domain_error,
        PoolTimeout: _POOL_EXHAUSTED,
        psycopg_pool.PoolTimeout: _POOL_EXHAUSTED,
        OperationalError: _DATABASE_UNAVAILABLE,
        psycopg.OperationalError: _DATABASE_UNAVAILABLE,
        BrokenProcessPool: _PROCESSES_UNAVAILABLE,
        RequestValidationError: _validation_error,
        StarletteHTTPException: _http_error,
    }
    handlers.update(dict.fromkeys(processes_unavailable, _PROCESSES_UNAVAILABLE))
    for kind, handler in handlers.items():
        app.add_exception_handler(kind, handler)
