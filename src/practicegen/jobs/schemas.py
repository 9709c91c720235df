"""Job bodies exactly as the async guide shows them, plus what durable jobs add."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from practicegen.auth.principal import Principal
from practicegen.db.models import Job
from practicegen.jobs.followers import FollowedJob
from practicegen.jobs.registry import JobTypes


class JobStatus(StrEnum):
    PENDING = "pending"  # queued, waiting for a worker (also between retries)
    PROCESSING = "processing"  # a worker holds it and heartbeats
    COMPLETED = "completed"  # terminal: `result` is set
    FAILED = "failed"  # terminal: `error` says why; POST .../retry runs it again
    CANCELLED = "cancelled"  # terminal: stopped by a client; POST .../retry runs it again

    @property
    def terminal(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


class JobAccepted(BaseModel):
    """The guide's 202 body for `POST /api/v1/practice/assign/async`."""

    success: Literal[True] = True
    job_id: uuid.UUID
    status: JobStatus
    message: str = "Practice generation started. Use the job_id to check status."
    status_url: str
    websocket_url: str

    @classmethod
    def of(cls, job_id: uuid.UUID, status: str) -> JobAccepted:
        return cls(
            job_id=job_id,
            status=JobStatus(status),
            status_url=f"/api/v1/jobs/{job_id}",
            websocket_url=f"/api/v1/jobs/{job_id}/ws",
        )


_DERIVED = {"job_id", "result", "error"}  # what `JobRead.of` does not copy from a column


class JobRead(BaseModel):
    """The guide's `data` of `GET /api/v1/jobs/{job_id}`, plus seq, attempt and expires_at."""

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
    seq: int = Field(description="Grows with every change of the job.")
    attempt: int
    expires_at: datetime | None = Field(description="When a finished job's result is dropped.")

    @classmethod
    def of(cls, job: Job | FollowedJob, *, reader: Principal, views: JobTypes) -> JobRead:
        """The job as `reader` may see it: its result through the job type's view."""
        completed = job.status == JobStatus.COMPLETED
        failed = job.status in (JobStatus.FAILED, JobStatus.CANCELLED)
        return cls(
            **{name: getattr(job, name) for name in cls.model_fields.keys() - _DERIVED},
            job_id=job.id,
            result=views.result(reader, job.job_type, job.result) if completed else None,
            error=job.error if failed else None,
        )
