"""Typed views of what the service returns, as the client sees them.

These mirror the schemas of the service's OpenAPI document (a test checks every field's name
and required-ness against the served document) but are written here so the client needs only
httpx and pydantic. Unknown fields are ignored, so a newer service that adds
fields does not break an older client. Job stream messages are a union discriminated on `type`:
`StatusMessage` while the job runs, then exactly one of `CompletedMessage`, `FailedMessage` or
`CancelledMessage`; every message carries the job's `seq`, which only grows.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Student(_Model):
    student_id: uuid.UUID
    external_id: str | None
    display_name: str | None
    grade_level: int | None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class Goal(_Model):
    goal_id: uuid.UUID
    name: str
    subject: str
    skills: list[str]
    description: str | None
    created_at: datetime
    updated_at: datetime


class ItemChoice(_Model):
    id: str
    text: str
    misconception: str | None = None


class Item(_Model):
    item_id: uuid.UUID
    subject: str
    topic: str
    skill: str
    type: str
    stem: str
    answer: str
    answer_policy: str
    tolerance: float | None = None
    choices: list[ItemChoice] = Field(default_factory=list)
    hints: list[str] = Field(default_factory=list)
    solution: str | None = None
    difficulty: float = 0.0
    source: str = "bank"
    provenance: dict[str, Any] = Field(default_factory=dict)
    status: str
    created_at: datetime
    updated_at: datetime


class RejectedRow(_Model):
    index: int
    reasons: list[str]


class ImportReport(_Model):
    imported: int
    duplicates: int
    rejected: list[RejectedRow]


class CatalogSkill(_Model):
    """`generation` is `offline` (the service's own generators), `model` (only its language
    model) or `bank` (nothing writes more than the bank holds)."""

    skill: str
    description: str | None
    levels: int | None
    item_count: int
    generation: str


class CatalogTopic(_Model):
    name: str
    item_count: int
    generation: str
    skills: list[CatalogSkill]


class CatalogSubject(_Model):
    name: str
    item_count: int
    generation: str
    topics: list[CatalogTopic]


class Catalog(_Model):
    """What a tenant can be given practice in; names are the service's spellings (it accepts
    any casing of them)."""

    model_configured: bool
    subjects: list[CatalogSubject]


class ResponseSummary(_Model):
    response_id: uuid.UUID
    answer: str
    correct: bool
    feedback_code: str
    created_at: datetime


class AssignedItem(_Model):
    """One item of an assignment; `answer` and `solution` are None for student tokens."""

    position: int
    item_id: uuid.UUID
    subject: str
    topic: str
    skill: str
    type: str
    stem: str
    choices: list[ItemChoice]
    hints: list[str]
    difficulty: float
    source: str
    predicted_success: float
    reason: str
    answer: str | None = None
    answer_policy: str
    solution: str | None = None
    response: ResponseSummary | None = None


class Assignment(_Model):
    assignment_id: uuid.UUID
    student_id: uuid.UUID
    subject: str
    topic: str | None
    goal_tags: list[uuid.UUID]
    num_items: int
    items: list[AssignedItem]
    bank_count: int
    generated_count: int
    warnings: list[str]
    created_at: datetime


class AnswerResult(_Model):
    """The graded answer and the student's updated ability on the item's skill."""

    response_id: uuid.UUID
    assignment_id: uuid.UUID
    position: int
    item_id: uuid.UUID
    correct: bool
    feedback_code: str
    message: str
    predicted_success: float
    skill: str
    ability: float
    correct_answer: str
    solution: str | None
    created_at: datetime


class StudentToken(_Model):
    token: str
    token_id: uuid.UUID
    student_id: uuid.UUID
    expires_at: datetime


class JobStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


class Job(_Model):
    """A job's status (`GET /api/v1/jobs/{id}`)."""

    job_id: uuid.UUID
    job_type: str
    status: JobStatus
    progress_percent: int
    progress_message: str | None
    created_at: datetime
    updated_at: datetime
    result: dict[str, Any] | None = None
    error: str | None = None
    error_code: str | None = None
    student_id: uuid.UUID | None
    seq: int
    attempt: int
    expires_at: datetime | None


class JobAccepted(_Model):
    """The 202 answer that starts a job."""

    success: bool = True
    job_id: uuid.UUID
    status: JobStatus
    message: str = ""
    status_url: str
    websocket_url: str


class SchoolClass(_Model):
    """A class: a teacher's named group of students."""

    class_id: uuid.UUID
    name: str
    student_count: int
    created_at: datetime
    updated_at: datetime


class MasteryRule(_Model):
    success: float
    min_answers: int


class SkillStanding(_Model):
    """A student's standing in one skill they have practised."""

    skill: str
    ability: float
    typical_success: float
    answered: int
    last_practised: datetime
    mastered: bool


class Mastery(_Model):
    student_id: uuid.UUID
    rule: MasteryRule
    skills: list[SkillStanding]


class AssignmentSummary(_Model):
    assignment_id: uuid.UUID
    subject: str
    topic: str | None
    num_items: int
    answered: int
    correct: int
    created_at: datetime


class ReportRow(_Model):
    student_id: uuid.UUID
    display_name: str | None
    external_id: str | None
    skills: dict[str, SkillStanding]


class ClassReport(_Model):
    """A class's students by skills."""

    class_id: uuid.UUID
    name: str
    rule: MasteryRule
    skills: list[str]
    students: list[ReportRow]


class BatchJob(_Model):
    job_id: uuid.UUID
    student_id: uuid.UUID
    status: JobStatus
    progress_percent: int
    status_url: str


class BatchAccepted(_Model):
    """The 202 answer that starts a batch: one job per student."""

    success: bool = True
    batch_id: uuid.UUID
    status: JobStatus
    message: str = ""
    status_url: str
    websocket_url: str
    events_url: str
    jobs: list[BatchJob]


class Batch(_Model):
    """A batch now (`GET /api/v1/batches/{id}`)."""

    batch_id: uuid.UUID
    class_id: uuid.UUID | None
    status: JobStatus
    progress_percent: int
    progress_message: str | None
    counts: dict[JobStatus, int]
    jobs: list[BatchJob]
    created_at: datetime
    updated_at: datetime


class StatusMessage(_Model):
    type: Literal["status"] = "status"
    status: JobStatus
    progress_percent: int
    progress_message: str | None
    seq: int


class CompletedMessage(_Model):
    type: Literal["completed"] = "completed"
    result: dict[str, Any]
    seq: int

    def assignment(self) -> Assignment:
        """The result of a practice generation job, typed."""
        return Assignment.model_validate(self.result)


class FailedMessage(_Model):
    type: Literal["failed"] = "failed"
    error: str | None
    seq: int


class CancelledMessage(_Model):
    type: Literal["cancelled"] = "cancelled"
    error: str | None
    seq: int


JobMessage = Annotated[
    StatusMessage | CompletedMessage | FailedMessage | CancelledMessage,
    Field(discriminator="type"),
]
TerminalMessage = CompletedMessage | FailedMessage | CancelledMessage

JOB_MESSAGE: TypeAdapter[JobMessage] = TypeAdapter(JobMessage)


def message_of(job: Job) -> JobMessage:
    """The stream message a job's current state corresponds to (used by long-polling)."""
    if job.status is JobStatus.COMPLETED:
        return CompletedMessage(result=job.result or {}, seq=job.seq)
    if job.status is JobStatus.FAILED:
        return FailedMessage(error=job.error, seq=job.seq)
    if job.status is JobStatus.CANCELLED:
        return CancelledMessage(error=job.error, seq=job.seq)
    return StatusMessage(
        status=job.status,
        progress_percent=job.progress_percent,
        progress_message=job.progress_message,
        seq=job.seq,
    )
