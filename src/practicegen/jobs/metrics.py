"""Prometheus metrics for jobs: gauges read from the jobs table at scrape time (the whole
cluster), and counters of this process's own work."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.db.models import Job
from practicegen.jobs import presence
from practicegen.jobs.admission import MemoryAdmission
from practicegen.jobs.lanes import Lane


class JobMetrics(Collector):
    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        gauge = functools.partial(Gauge, registry=registry)
        counter = functools.partial(Counter, registry=registry)
        self.jobs = gauge("practicegen_jobs", "Jobs by status and type.", ["status", "job_type"])
        self.queue_depth = gauge(
            "practicegen_queue_depth", "Jobs pending (queued or waiting to retry)."
        )
        self.oldest_pending = gauge(
            "practicegen_oldest_pending_seconds", "Age of the oldest pending job."
        )
        self.finished = counter(
            "practicegen_job_attempts_finished", "Attempts run here, by outcome.", ["outcome"]
        )
        self.run_time = Histogram(
            "practicegen_job_attempt_seconds",
            "Run time of attempts run here.",
            buckets=(0.1, 0.5, 1, 2, 5, 10, 20, 30, 45, 60, 120, 300),
            registry=registry,
        )
        self.lane_in_flight = gauge(
            "practicegen_lane_in_flight",
            "Jobs of each lane being attempted now, on every node.",
            ["lane"],
        )
        self.lane_tenant_in_flight = gauge(
            "practicegen_lane_tenant_in_flight",
            "Jobs of each lane being attempted now, on every node, by tenant.",
            ["lane", "tenant_id"],
        )
        self.workers_seen = gauge(
            "practicegen_workers_seen",
            "Job workers seen lately (stamped within PRACTICEGEN_WORKER_STALE_S), on every node.",
        )
        self.workers_stale = gauge(
            "practicegen_workers_stale",
            "Job workers not seen for longer than that, yet not stopped cleanly (killed, cut off).",
        )
        self.lanes: Sequence[Lane] = ()
        self.admission: MemoryAdmission | None = None
        self.slots = 0

    def watch_lanes(
        self, lanes: Sequence[Lane], admission: MemoryAdmission | None = None, slots: int = 0
    ) -> None:
        """Report these lanes, memory admission and `slots` (once the queue is built)."""
        self.lanes, self.admission, self.slots = lanes, admission, slots
        self.registry.register(self)

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        """This process's own view of its lanes and its admission, read at scrape time."""
        if self.admission is not None:
            yield GaugeMetricFamily(
                "practicegen_jobs_running",
                "Jobs this process runs now.",
                value=self.admission.running,
            )
            yield GaugeMetricFamily(
                "practicegen_job_slots", "Jobs this process may hold at once.", value=self.slots
            )
            yield GaugeMetricFamily(
                "practicegen_memory_resident_bytes",
                "This process's resident memory.",
                value=self.admission.resident(),
            )
            yield GaugeMetricFamily(
                "practicegen_memory_limit_bytes",
                "Resident memory past which this process takes no new job.",
                value=self.admission.limit_bytes,
            )
            yield CounterMetricFamily(
                "practicegen_jobs_held_back",
                "Messages this process handed back because its memory was past the bound.",
                value=self.admission.held_back,
            )
        running = GaugeMetricFamily(
            "practicegen_lane_running", "Jobs of each lane this process runs now.", labels=["lane"]
        )
        deferred = CounterMetricFamily(
            "practicegen_lane_deferred",
            "Messages this process handed back because their tenant's share was in use.",
            labels=["lane"],
        )
        for lane in self.lanes:
            running.add_metric([lane.entrypoint], sum(lane.in_flight.values()))
            deferred.add_metric([lane.entrypoint], lane.deferred)
        yield running
        yield deferred

    async def refresh(self, session: AsyncSession, now: datetime, *, worker_stale_s: float) -> None:
        workers = await presence.look(session, stale_s=worker_stale_s)
        self.workers_seen.set(workers.seen)
        self.workers_stale.set(workers.stale)
        rows = await session.execute(
            select(Job.status, Job.job_type, func.count()).group_by(Job.status, Job.job_type)
        )
        self.jobs.clear()
        pending = 0
        for status, job_type, count in rows:
            self.jobs.labels(status=status, job_type=job_type).set(count)
            pending += count if status == "pending" else 0
        self.queue_depth.set(pending)
        pending_since = select(func.min(Job.created_at)).where(Job.status == "pending")
        oldest = await session.scalar(pending_since)
        self.oldest_pending.set((now - oldest).total_seconds() if oldest else 0)
        self.lane_tenant_in_flight.clear()
        for lane in self.lanes:
            by_tenant = await session.execute(
                select(Job.tenant_id, func.count())
                .where(Job.status == "processing", Job.job_type.in_(lane.job_types))
                .group_by(Job.tenant_id)
            )
            counts: dict[object, int] = {tenant: n for tenant, n in by_tenant}
            for tenant_id, count in counts.items():
                self.lane_tenant_in_flight.labels(lane.entrypoint, str(tenant_id)).set(count)
            self.lane_in_flight.labels(lane.entrypoint).set(sum(counts.values()))

    def render(self) -> bytes:
        return generate_latest(self.registry)
