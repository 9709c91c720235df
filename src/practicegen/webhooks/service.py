"""Scheduling, sending and listing webhook deliveries: jobs created in the transaction that ends
the job they report, so a crash never loses one; `webhook-id` stays the same on every attempt."""

from __future__ import annotations

import json
import random
import time
import uuid
from datetime import datetime
from typing import Any

import httpx
import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen import tracing
from practicegen.clock import Clock
from practicegen.config import Settings
from practicegen.db.engine import SessionMaker
from practicegen.db.models import Job, WebhookAttempt
from practicegen.errors import InvalidRequest
from practicegen.jobs.lanes import Lane
from practicegen.jobs.registry import JobType, JobTypes, Progress, Writer
from practicegen.jobs.repository import JobRepository
from practicegen.jobs.schemas import JobStatus
from practicegen.jobs.service import JobNotFound, NewJob, create_job
from practicegen.jobs.store import JobStore, PendingJob
from practicegen.jobs.worker import OnFinished, RetryLater
from practicegen.webhooks import signing
from practicegen.webhooks.secrets import live_secrets
from practicegen.webhooks.ssrf import AddressGuard

log = structlog.get_logger()
WEBHOOK_DELIVERY = "webhook_delivery"
WEBHOOK_LANE = "practicegen_webhook"


class WebhookGone(InvalidRequest):
    code = "webhook_gone"
    default_message = "The receiver answered 410 Gone; delivery stopped."


def event_body(job: Job, event: str, delivery_id: uuid.UUID, now: datetime) -> dict[str, Any]:
    """The guide's body (`event`, `timestamp`, `data{job_id, student_id, result}`) plus id, type."""
    student = None if job.student_id is None else str(job.student_id)  # a batch has none
    data: dict[str, Any] = {"job_id": str(job.id), "student_id": student}
    data |= {"result": job.result} if job.status == JobStatus.COMPLETED else {"error": job.error}
    return {
        "id": f"msg_{delivery_id.hex}",
        "type": event,
        "event": event,
        "timestamp": now.isoformat().replace("+00:00", "Z"),
        "data": data,
    }


def delivery_lane(settings: Settings) -> Lane:
    """The queue lane deliveries run in: their own slots, a share per tenant."""
    return Lane(
        entrypoint=WEBHOOK_LANE,
        job_types=frozenset({WEBHOOK_DELIVERY}),
        concurrency=settings.webhook_concurrency,
        tenant_share=settings.webhook_tenant_share,
        defer_s=settings.webhook_defer_s,
        # a share's slot frees at the latest when its attempt times out
        defer_max_s=settings.webhook_timeout_s,
    )


async def create_delivery(
    session: AsyncSession,
    owner: Job,
    request: dict[str, Any],
    *,
    store: JobStore,
    settings: Settings,
    now: datetime,
    delivery_id: uuid.UUID | None = None,
    message: str = "Queued.",
) -> Job | PendingJob:
    """Add a delivery job (`request`: `source_job_id`, `url`, `body`) of `owner`'s tenant and
    student in the caller's transaction; it counts against no tenant's limit."""
    new = NewJob(
        tenant_id=owner.tenant_id,
        job_type=WEBHOOK_DELIVERY,
        request=request,
        max_attempts=len(settings.webhook_retry_schedule),
        in_flight_limit=None,
        student_id=owner.student_id,
        job_id=delivery_id,
        delay_s=settings.webhook_retry_schedule[0],
        message=message,
    )
    return (await create_job(session, store=store, new=new, now=now)).job


async def redeliver(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    delivery_id: uuid.UUID,
    store: JobStore,
    settings: Settings,
    now: datetime,
) -> Job | PendingJob:
    original = await JobRepository(session).get(tenant_id, delivery_id)
    if original is None or original.job_type != WEBHOOK_DELIVERY:
        raise JobNotFound("No such webhook delivery.", delivery_id=str(delivery_id))
    return await create_delivery(
        session,
        original,
        dict(original.request),
        store=store,
        settings=settings,
        now=now,
        message="Queued again.",
    )


async def deliveries_of(
    session: AsyncSession, tenant_id: uuid.UUID, job_id: uuid.UUID
) -> list[tuple[Job, list[WebhookAttempt]]]:
    """The deliveries reporting on `job_id`, each with its attempts, both oldest first."""
    query = (
        select(Job)
        .where(Job.tenant_id == tenant_id, Job.job_type == WEBHOOK_DELIVERY)
        .where(Job.request["source_job_id"].as_string() == str(job_id))
        .order_by(Job.created_at)
    )
    deliveries = (await session.scalars(query)).all()
    of_job = select(WebhookAttempt).where(WebhookAttempt.source_job_id == job_id)
    attempts = (await session.scalars(of_job.order_by(WebhookAttempt.created_at))).all()
    return [(d, [a for a in attempts if a.delivery_id == d.id]) for d in deliveries]


def _retry_delay(settings: Settings, attempt: int, response: httpx.Response | None) -> float:
    schedule = settings.webhook_retry_schedule
    delay = schedule[min(attempt, len(schedule) - 1)] * random.uniform(0.9, 1.1)
    after = response.headers.get("retry-after") if response is not None else None
    if after is not None and after.isdigit():
        delay = max(delay, min(float(after), schedule[-1]))
    return delay


async def _log_attempt(
    sessionmaker: SessionMaker, job: Job, status_code: int | None, error: str | None, started: float
) -> None:
    async with sessionmaker() as session, session.begin():
        session.add(
            WebhookAttempt(
                tenant_id=job.tenant_id,
                delivery_id=job.id,
                source_job_id=uuid.UUID(job.request["source_job_id"]),
                attempt=job.attempt,
                status_code=status_code,
                error=error,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
        )
    log.info(
        "webhook.attempt",
        delivery_id=str(job.id),
        attempt=job.attempt,
        status_code=status_code,
        error=error,
    )


def on_finished(store: JobStore, types: JobTypes, settings: Settings, clock: Clock) -> OnFinished:
    """Queue the webhook, if any, for a job that just ended, in the caller's transaction."""

    async def schedule_delivery(session: AsyncSession, job: Job) -> None:
        event = types.event(job.job_type, job.status)
        if not job.webhook_url or event is None:
            return
        now, delivery_id = clock(), uuid.uuid4()
        await create_delivery(
            session,
            job,
            {
                "source_job_id": str(job.id),
                "url": job.webhook_url,
                "body": event_body(job, event, delivery_id, now),
            },
            store=store,
            settings=settings,
            now=now,
            delivery_id=delivery_id,
        )

    return schedule_delivery


def delivery_job_type(
    settings: Settings, sessionmaker: SessionMaker, guard: AddressGuard, clock: Clock
) -> JobType:
    """Deliveries, one signed POST per attempt; never a student's (their result shows the URL)."""

    async def deliver(job: Job, progress: Progress) -> Writer:
        del progress
        url, body = job.request["url"], job.request["body"]
        payload = json.dumps(body, separators=(",", ":")).encode()
        now = clock()
        async with sessionmaker() as session, session.begin():
            live = await live_secrets(session, job.tenant_id, settings=settings, now=now)
        sent = signing.headers([s.secret for s in live], body["id"], int(now.timestamp()), payload)
        response, error, started = None, None, time.perf_counter()
        try:
            await guard.check_url(url)
            async with httpx.AsyncClient(
                transport=guard.transport(),
                timeout=settings.webhook_timeout_s,
                follow_redirects=False,
            ) as client:
                with tracing.http_span("POST", url) as traced:
                    response = await client.post(url, content=payload, headers={**sent, **traced})
                    tracing.responded(response.status_code)
        except (httpx.HTTPError, InvalidRequest) as exc:
            error = f"{type(exc).__name__}: {exc}"
        status_code = None if response is None else response.status_code
        await _log_attempt(sessionmaker, job, status_code, error, started)
        if status_code is not None and 200 <= status_code < 300:

            async def write(_session: AsyncSession) -> dict[str, Any]:
                return {"status_code": status_code, "url": url}

            return write
        if status_code == 410:
            raise WebhookGone(url=url)
        reason = error or f"receiver answered {status_code}"
        raise RetryLater(reason, _retry_delay(settings, job.attempt, response))

    return JobType(name=WEBHOOK_DELIVERY, handler=deliver)
