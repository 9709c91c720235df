"""The Python client for the practicegen API.

    from practicegen_client import AsyncClient

    async with AsyncClient("http://127.0.0.1:8000", token) as client:
        job = await client.assign_async(student_id, "Algebra", 5, topic="Linear Equations")
        assignment = await job.wait(timeout=120)

`Client` is the blocking twin with the same methods. The client needs only httpx and pydantic
(plus, optionally, `websockets` to follow jobs over the WebSocket; without it, jobs are followed
over Server-Sent Events); it imports nothing of the server. See docs/python-client.md.
"""

from practicegen_client._async import AsyncClient
from practicegen_client._http import StreamTransport
from practicegen_client._jobs import JobHandle
from practicegen_client._sync import Client, SyncJobHandle
from practicegen_client.errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    GoneError,
    JobCancelledError,
    JobError,
    JobFailedError,
    JobWaitTimeout,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    PracticegenAPIError,
    PracticegenError,
    RateLimitedError,
    ServerError,
    ValidationError,
)
from practicegen_client.models import (
    AnswerResult,
    AssignedItem,
    Assignment,
    CancelledMessage,
    Catalog,
    CatalogSkill,
    CatalogSubject,
    CatalogTopic,
    CompletedMessage,
    FailedMessage,
    Goal,
    ImportReport,
    Item,
    ItemChoice,
    Job,
    JobAccepted,
    JobMessage,
    JobStatus,
    RejectedRow,
    ResponseSummary,
    StatusMessage,
    Student,
    StudentToken,
)
from practicegen_client.webhooks import InvalidSignature, verify_webhook

__all__ = [
    "AnswerResult",
    "AssignedItem",
    "Assignment",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "CancelledMessage",
    "Catalog",
    "CatalogSkill",
    "CatalogSubject",
    "CatalogTopic",
    "Client",
    "CompletedMessage",
    "ConflictError",
    "FailedMessage",
    "Goal",
    "GoneError",
    "ImportReport",
    "InvalidSignature",
    "Item",
    "ItemChoice",
    "Job",
    "JobAccepted",
    "JobCancelledError",
    "JobError",
    "JobFailedError",
    "JobHandle",
    "JobMessage",
    "JobStatus",
    "JobWaitTimeout",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PracticegenAPIError",
    "PracticegenError",
    "RateLimitedError",
    "RejectedRow",
    "ResponseSummary",
    "ServerError",
    "StatusMessage",
    "StreamTransport",
    "Student",
    "StudentToken",
    "SyncJobHandle",
    "ValidationError",
    "verify_webhook",
]
