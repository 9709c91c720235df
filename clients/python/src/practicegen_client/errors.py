"""Exceptions raised by the practicegen client.

Every non-2xx answer of the service becomes a `PracticegenAPIError` carrying the service's error
envelope (`status`, `code`, `message`, `details`); the subclass follows the HTTP status, and
`code` (e.g. `student_not_found`, `too_many_jobs`) is the stable thing to branch on. A job that
ends badly while you wait for it raises `JobFailedError` or `JobCancelledError`.

    PracticegenError
    ├── PracticegenAPIError              any 4xx or 5xx answer
    │   ├── BadRequestError              400 (e.g. malformed JSON)
    │   ├── AuthenticationError          401
    │   ├── PermissionDeniedError        403
    │   ├── NotFoundError                404
    │   ├── ConflictError                409
    │   ├── GoneError                    410 (a job past its retention)
    │   ├── PayloadTooLargeError         413
    │   ├── ValidationError              422
    │   ├── RateLimitedError             429 (`retry_after` in seconds, when given)
    │   └── ServerError                  5xx
    ├── JobError                         a job ended without a result
    │   ├── JobFailedError
    │   └── JobCancelledError
    └── JobWaitTimeout                   `wait(timeout=...)` ran out (also a TimeoutError)
"""

from __future__ import annotations

from typing import Any


class PracticegenError(Exception):
    """The base of everything this client raises on purpose."""


class PracticegenAPIError(PracticegenError):
    """The service answered with an error envelope (or an unexpected non-2xx status)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.details: Any = details if details is not None else {}
        self.headers = headers or {}
        super().__init__(f"{status} {code}: {message}")


class BadRequestError(PracticegenAPIError):
    """400: the request could not be read (e.g. malformed JSON)."""


class AuthenticationError(PracticegenAPIError):
    """401: no valid API key or token."""


class PermissionDeniedError(PracticegenAPIError):
    """403: the key or token may not do that."""


class NotFoundError(PracticegenAPIError):
    """404: no such student, goal, item, assignment or job (or route)."""


class ConflictError(PracticegenAPIError):
    """409: e.g. a student with this external_id already exists."""


class GoneError(PracticegenAPIError):
    """410: a finished job whose result has been dropped after its retention."""


class PayloadTooLargeError(PracticegenAPIError):
    """413: the request body is too large."""


class ValidationError(PracticegenAPIError):
    """422: the request is well-formed but not valid (`details["errors"]` lists fields)."""


class RateLimitedError(PracticegenAPIError):
    """429: too many requests or jobs in flight; raised once the client's retries ran out."""

    @property
    def retry_after(self) -> float | None:
        """The service's `Retry-After`, in seconds, if it sent one."""
        return parse_retry_after(self.headers.get("retry-after"))


class ServerError(PracticegenAPIError):
    """5xx: the service failed; raised once the client's retries ran out."""


class JobError(PracticegenError):
    """A job ended without a result."""

    def __init__(self, job_id: str, error: str | None) -> None:
        self.job_id = job_id
        self.error = error
        super().__init__(f"job {job_id}: {error or 'no reason given'}")


class JobFailedError(JobError):
    """The job failed (after its attempts); `JobHandle.retry()` runs it again."""


class JobCancelledError(JobError):
    """The job was cancelled; `JobHandle.retry()` runs it again."""


class JobWaitTimeout(PracticegenError, TimeoutError):
    """The job did not finish within the time `wait()` was given; it keeps running."""


_BY_STATUS: dict[int, type[PracticegenAPIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
    413: PayloadTooLargeError,
    422: ValidationError,
    429: RateLimitedError,
}


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header given as a number (HTTP dates are ignored)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(seconds, 0.0)


def error_for(status: int, body: Any, headers: dict[str, str] | None = None) -> PracticegenAPIError:
    """The typed exception for an error answer, read from the service's error envelope."""
    code, message, details = "http_error", f"HTTP {status}", None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        code = str(error.get("code", code))
        message = str(error.get("message", message))
        details = error.get("details")
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else PracticegenAPIError)
    return cls(status, code, message, details, headers=headers)
