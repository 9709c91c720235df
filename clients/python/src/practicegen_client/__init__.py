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
from practicegen_client._batches import BatchHandle
from practicegen_client._http import StreamTransport
from practicegen_client._jobs import JobHandle
from practicegen_client._sync import Client, SyncBatchHandle, SyncJobHandle
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
    AssignmentSummary,
    Batch,
    BatchAccepted,
    BatchJob,
    CancelledMessage,
    Catalog,
    CatalogSkill,
    CatalogSubject,
    CatalogTopic,
    ClassReport,
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
    Mastery,
    MasteryRule,
    RejectedRow,
    ReportRow,
    ResponseSummary,
    SchoolClass,
    SkillStanding,
    StatusMessage,
    Student,
    StudentToken,
)
from practicegen_client.webhooks import InvalidSignature, verify_webhook

__all__ = [
    "AnswerResult",
    "AssignedItem",
    "Assignment",
    "AssignmentSummary",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "Batch",
    "BatchAccepted",
    "BatchHandle",
    "BatchJob",
    "CancelledMessage",
    "Catalog",
    "CatalogSkill",
    "CatalogSubject",
    "CatalogTopic",
    "ClassReport",
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
    "Mastery",
    "MasteryRule",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PracticegenAPIError",
    "PracticegenError",
    "RateLimitedError",
    "RejectedRow",
    "ReportRow",
    "ResponseSummary",
    "SchoolClass",
    "ServerError",
    "SkillStanding",
    "StatusMessage",
    "StreamTransport",
    "Student",
    "StudentToken",
    "SyncBatchHandle",
    "SyncJobHandle",
    "ValidationError",
    "verify_webhook",
]
