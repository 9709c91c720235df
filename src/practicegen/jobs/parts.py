"""The job system's parts a node's endpoints reach as `container.part(JobParts)`."""

from __future__ import annotations

from dataclasses import dataclass

from practicegen.jobs.events import JobChanges
from practicegen.jobs.followers import FollowerReads
from practicegen.jobs.metrics import JobMetrics
from practicegen.jobs.queue import JobQueue
from practicegen.jobs.registry import JobTypes
from practicegen.jobs.store import JobStore
from practicegen.jobs.worker import OnFinished


@dataclass(frozen=True, slots=True)
class JobParts:
    queue: JobQueue
    changes: JobChanges  # long-polls and streams wait on it
    reads: FollowerReads  # polls and streams read their jobs through it, many in one query
    store: JobStore
    types: JobTypes
    metrics: JobMetrics
    on_finished: OnFinished  # what follows a job's end (its webhook); cancel calls it too
