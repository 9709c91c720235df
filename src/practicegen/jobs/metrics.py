"""Prometheus metrics for jobs: what the database says now, and what this process has run.

Gauges (jobs by status and type, queue depth, age of the oldest pending job) are read from the
jobs table at scrape time, so any API node reports the whole cluster's truth. Counters and the
run-time histogram count what this process's worker did since it started; scrape the worker
processes too in distributed mode (they serve no HTTP yet, so for now only embedded workers'
counters are visible).
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.db.models import Job


class JobMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.jobs = Gauge(
            "practicegen_jobs",
            "Jobs by status and type.",
            ["status", "job_type"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "practicegen_queue_depth",
            "Jobs pending (queued or waiting to retry).",
            registry=self.registry,
        )
        self.oldest_pending = Gauge(
            "practicegen_oldest_pending_seconds",
            "Age of the oldest pending job.",
            registry=self.registry,
        )
        self.finished = Counter(
            "practicegen_job_attempts_finished",
            "Attempts run here, by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        self.run_time = Histogram(
            "practicegen_job_attempt_seconds",
            "Run time of attempts run here.",
            buckets=(0.1, 0.5, 1, 2, 5, 10, 20, 30, 45, 60, 120, 300),
            registry=self.registry,
        )

    async def refresh(self, session: AsyncSession, now: datetime) -> None:
        rows = await session.execute(
            select(Job.status, Job.job_type, func.count()).group_by(Job.status, Job.job_type)
        )
        self.jobs.clear()
        pending = 0
        for status, job_type, count in rows:
            self.jobs.labels(status=status, job_type=job_type).set(count)
            pending += count if status == "pending" else 0
        self.queue_depth.set(pending)
        oldest = (
            await session.execute(select(func.min(Job.created_at)).where(Job.status == "pending"))
        ).scalar_one_or_none()
        if isinstance(oldest, str):  # SQLite returns the aggregate as text
            oldest = datetime.fromisoformat(oldest)
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=now.tzinfo)
        self.oldest_pending.set((now - oldest).total_seconds() if oldest else 0)

    def render(self) -> bytes:
        return generate_latest(self.registry)
