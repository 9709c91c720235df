"""`BatchHandle`: a class (or list of students) assigned at once, followed as one.

A batch is a job of the service's (its students' jobs are ordinary jobs), so it is followed as
a job is, over the same transports; its end says every student's job has ended.
"""

from __future__ import annotations

import uuid

from practicegen_client._http import HttpCore
from practicegen_client._jobs import JobHandle
from practicegen_client.models import Batch, BatchAccepted


class BatchHandle:
    """One batch: wait for all its students' jobs, read it, or follow any student's job."""

    def __init__(
        self, client: HttpCore, batch_id: uuid.UUID, accepted: BatchAccepted | None = None
    ) -> None:
        self._client = client
        self.batch_id = batch_id
        self.accepted = accepted
        self.replayed = False
        self.job = JobHandle(client, batch_id)
        """The batch as a job: its events are its progress, its end the batch's."""

    def __repr__(self) -> str:
        return f"BatchHandle(batch_id={self.batch_id!s})"

    def student_jobs(self) -> list[JobHandle]:
        """A handle on each student's job (from the 202 answer)."""
        jobs = [] if self.accepted is None else self.accepted.jobs
        return [JobHandle(self._client, job.job_id) for job in jobs]

    async def wait(self, timeout: float | None = None) -> Batch:  # noqa: ASYNC109
        """The batch once every student's job has ended (raises as `JobHandle.wait` does)."""
        await self.job.completed(timeout)
        return await self.status()

    async def status(self) -> Batch:
        """The batch now, with each student's job (`GET /api/v1/batches/{id}`)."""
        return Batch.model_validate(
            await self._client._data("GET", f"/api/v1/batches/{self.batch_id}")
        )
