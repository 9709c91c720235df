"""Request and response bodies for batches."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import AnyHttpUrl, BaseModel, Field

from practicegen.classes.schemas import Members
from practicegen.jobs.schemas import JobStatus
from practicegen.practice.schemas import PracticeAsk


class ClassAssignRequest(PracticeAsk):
    """`POST /api/v1/classes/{class_id}/assign/async`: the same practice for every student."""

    webhook_url: AnyHttpUrl | None = Field(
        default=None,
        max_length=2000,
        description="Told of each student's job as it ends, and of the batch once all have.",
    )


class BatchCreate(ClassAssignRequest, Members):
    """`POST /api/v1/batches`: the same practice for each student named."""


class BatchJob(BaseModel):
    job_id: uuid.UUID
    student_id: uuid.UUID
    status: JobStatus
    progress_percent: int
    status_url: str


class BatchAccepted(BaseModel):
    """The 202 body: the batch and its jobs, to follow as a whole or one by one."""

    success: Literal[True] = True
    batch_id: uuid.UUID
    status: JobStatus
    message: str = "Practice generation started for each student. Follow the batch_id."
    status_url: str
    websocket_url: str
    events_url: str
    jobs: list[BatchJob]


class BatchRead(BaseModel):
    batch_id: uuid.UUID
    class_id: uuid.UUID | None
    status: JobStatus
    progress_percent: int
    progress_message: str | None
    counts: dict[JobStatus, int]
    jobs: list[BatchJob]
    created_at: datetime
    updated_at: datetime
