"""Scheduling, sending and listing webhook deliveries.

A delivery is a job of type `webhook_delivery`, created in the transaction that ends the job it
reports, so a crash can never lose it; the job machinery then gives it durability, re-picking
and fencing. Its attempts follow `PRACTICEGEN_WEBHOOK_RETRY_SCHEDULE` (seconds before each
attempt, with jitter), a receiver's `Retry-After` is honoured, only 2xx is success, 410 stops
for good and redirects are not followed. `webhook-id` is the delivery's id, the same on every
attempt, so receivers can drop duplicates. Every attempt is logged in `webhook_attempts`.

Deliveries run in a lane of their own (`delivery_lane`, see `jobs/lanes.py`): at most
`PRACTICEGEN_WEBHOOK_CONCURRENCY` in flight beside the jobs' slots, and at most
`PRACTICEGEN_WEBHOOK_TENANT_SHARE` of one tenant's per process, so a receiver that hangs delays
its own tenant's deliveries only. `create_delivery` is the one place a delivery is made.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from datetime import datetime
from typing import Any

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.clock import utcnow
from practicegen.config import Settings
from practicegen.db.engine import SessionMaker
from practicegen.db.models import Job, WebhookAttempt
from practicegen.errors import InvalidRequest
from practicegen.jobs.lanes import Lane
from practicegen.jobs.queue import JobQueue
from practicegen.jobs.repository import JobRepository
from practicegen.jobs.schemas import JobStatus
from practicegen.jobs.worker import Handler, OnFinished, Progress, RetryLater, Writer
from practicegen.webhooks import signing
from practicegen.webhooks.secrets import signing_secrets
from practicegen.webhooks.ssrf import AddressGuard

log = structlog.get_logger()
WEBHOOK_DELIVERY = "webhook_delivery"
WEBHOOK_LANE = "practicegen_webhook"
EVENTS = {
    JobStatus.COMPLETED: "practice.assignment.completed",
    JobStatus.FAILED: "practice.assignment.failed",
    JobStatus.CANCELLED: "practice.assignment.cancelled",
}


class WebhookGone(InvalidRequest):
    code = "webhook_gone"
    default_message = "The receiver answered 410 Gone; delivery stopped."


def event_body(job: Job, delivery_id: uuid.UUID, now: datetime) -> dict[str, Any]:
    """The guide's body (`event`, `timestamp`, `data{job_id, student_id, result}`) plus id, type."""
    event = EVENTS[JobStatus(job.status)]
    data: dict[str, Any] = {"job_id": str(job.id), "student_id": str(job.student_id)}
    if job.status == JobStatus.COMPLETED:
        data["result"] = job.result
    else:
        data["error"] = job.error
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
    *,
    tenant_id: uuid.UUID,
    student_id: uuid.UUID | None,
    request: dict[str, Any],
    queue: JobQueue,
    settings: Settings,
    now: datetime,
    delivery_id: uuid.UUID | None = None,
    message: str = "Queued.",
) -> Job:
    """Add a delivery job (`request`: `source_job_id`, `url`, `body`) and queue it in its lane,
    in the caller's transaction; its first attempt after the schedule's first wait."""
    delivery = Job(
        id=delivery_id or uuid.uuid4(),
        tenant_id=tenant_id,
        job_type=WEBHOOK_DELIVERY,
        status="pending",
        progress_percent=0,
        progress_message=message,
        student_id=student_id,
        request=request,
        attempt=0,
        max_attempts=len(settings.webhook_retry_schedule),
        seq=1,
        webhook_url=None,
        created_at=now,
        updated_at=now,
    )
    await JobRepository(session).add(delivery)
    await queue.enqueue(
        session,
        delivery.id,
        delay_s=settings.webhook_retry_schedule[0],
        job_type=WEBHOOK_DELIVERY,
        tenant_id=tenant_id,
    )
    return delivery


async def schedule_delivery(
    session: AsyncSession, job: Job, *, queue: JobQueue, settings: Settings, now: datetime
) -> Job | None:
    """Queue the webhook for a job that just ended, in the caller's transaction."""
    if not job.webhook_url or job.job_type == WEBHOOK_DELIVERY:
        return None
    delivery_id = uuid.uuid4()
    return await create_delivery(
        session,
        tenant_id=job.tenant_id,
        student_id=job.student_id,
        request={
            "source_job_id": str(job.id),
            "url": job.webhook_url,
            "body": event_body(job, delivery_id, now),
        },
        queue=queue,
        settings=settings,
        now=now,
        delivery_id=delivery_id,
    )


def _retry_delay(settings: Settings, attempt: int, response: httpx.Response | None) -> float:
    schedule = settings.webhook_retry_schedule
    delay = schedule[min(attempt, len(schedule) - 1)] * random.uniform(0.9, 1.1)
    after = response.headers.get("retry-after") if response is not None else None
    if after is not None and after.isdigit():
        delay = max(delay, min(float(after), schedule[-1]))
    return delay


def delivery_handler(
    settings: Settings, sessionmaker: SessionMaker, guard: AddressGuard
) -> Handler:
    """The `webhook_delivery` job type: one signed POST per attempt."""

    async def deliver(job: Job, progress: Progress) -> Writer:
        del progress
        url, body = job.request["url"], job.request["body"]
        payload = json.dumps(body, separators=(",", ":")).encode()
        async with sessionmaker() as session, session.begin():
            secrets_ = await signing_secrets(session, job.tenant_id, settings, utcnow())
        sent = signing.headers(secrets_, body["id"], int(time.time()), payload)
        response, error, started = None, None, time.perf_counter()
        try:
            await guard.check_url(url)
            async with httpx.AsyncClient(
                transport=guard.transport(),
                timeout=settings.webhook_timeout_s,
                follow_redirects=False,
            ) as client:
                response = await client.post(url, content=payload, headers=sent)
        except (httpx.HTTPError, InvalidRequest) as exc:
            error = f"{type(exc).__name__}: {exc}"
        await _log_attempt(sessionmaker, job, response, error, started)
        if response is not None and 200 <= response.status_code < 300:

            async def write(_session: AsyncSession) -> dict[str, Any]:
                return {"status_code": response.status_code, "url": url}

            return write
        if response is not None and response.status_code == 410:
            raise WebhookGone(url=url)
        reason = error or f"receiver answered {response.status_code if response else '?'}"
        raise RetryLater(reason, _retry_delay(settings, job.attempt, response))

    return deliver


async def _log_attempt(
    sessionmaker: SessionMaker,
    job: Job,
    response: httpx.Response | None,
    error: str | None,
    started: float,
) -> None:
    async with sessionmaker() as session, session.begin():
        session.add(
            WebhookAttempt(
                tenant_id=job.tenant_id,
                delivery_id=job.id,
                source_job_id=uuid.UUID(job.request["source_job_id"]),
                attempt=job.attempt,
                status_code=response.status_code if response is not None else None,
                error=error,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
        )
    log.info(
        "webhook.attempt",
        delivery_id=str(job.id),
        attempt=job.attempt,
        status_code=response.status_code if response is not None else None,
        error=error,
    )


def on_finished(queue: JobQueue, settings: Settings) -> OnFinished:
    async def hook(session: AsyncSession, job: Job) -> None:
        await schedule_delivery(session, job, queue=queue, settings=settings, now=utcnow())

    return hook
