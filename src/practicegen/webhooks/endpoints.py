"""HTTP edge for webhooks: a job's deliveries with their attempts, redelivery, signing secrets."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict

from practicegen.api.deps import ContainerDep, NowDep, SessionDep, SettingsDep
from practicegen.api.envelope import Envelope, ok
from practicegen.auth.deps import PrincipalDep
from practicegen.db.models import Job, WebhookAttempt, WebhookSecret
from practicegen.jobs import service as jobs_service
from practicegen.jobs.endpoints import JobTypesDep
from practicegen.jobs.parts import JobParts
from practicegen.jobs.store import PendingJob
from practicegen.webhooks import secrets, service

router = APIRouter(prefix="/api/v1", tags=["webhooks"])


class AttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempt: int
    status_code: int | None
    error: str | None
    duration_ms: float
    created_at: datetime


class DeliveryRead(BaseModel):
    delivery_id: uuid.UUID
    webhook_id: str
    event: str
    url: str
    status: str
    attempts: list[AttemptRead]
    created_at: datetime
    updated_at: datetime


def _read(delivery: Job | PendingJob, attempts: list[WebhookAttempt]) -> DeliveryRead:
    body: dict[str, Any] = delivery.request["body"]
    return DeliveryRead(
        delivery_id=delivery.id,
        webhook_id=body["id"],
        event=body["event"],
        url=delivery.request["url"],
        status=delivery.status,
        attempts=[AttemptRead.model_validate(a) for a in attempts],
        created_at=delivery.created_at,
        updated_at=delivery.updated_at,
    )


@router.get("/jobs/{job_id}/webhook-deliveries")
async def list_deliveries(
    job_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, now: NowDep, views: JobTypesDep
) -> Envelope[list[DeliveryRead]]:
    """Every delivery of this job's webhook, oldest first, each with every attempt; 404 to a
    student token for a job it cannot see, 403 for the deliveries of one it can see."""
    await jobs_service.get_job(session, principal=principal, job_id=job_id, now=now, views=views)
    principal.require_server()
    deliveries = await service.deliveries_of(session, principal.tenant_id, job_id)
    return ok([_read(delivery, attempts) for delivery, attempts in deliveries])


@router.post("/webhook-deliveries/{delivery_id}/redeliver", status_code=status.HTTP_202_ACCEPTED)
async def redeliver(
    delivery_id: uuid.UUID,
    container: ContainerDep,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    now: NowDep,
) -> Envelope[DeliveryRead]:
    """Send a delivery again, as a new delivery with the same body and webhook-id."""
    principal.require_server()
    again = await service.redeliver(
        session,
        tenant_id=principal.tenant_id,
        delivery_id=delivery_id,
        store=container.part(JobParts).store,
        settings=settings,
        now=now,
    )
    return ok(_read(again, []))


class WebhookSecretRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    secret: str
    created_at: datetime
    expires_at: datetime | None


class WebhookSecretsRead(BaseModel):
    current: WebhookSecretRead
    previous: list[WebhookSecretRead]  # rotated out; each signs until its `expires_at`


async def _secrets(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    now: NowDep,
    read_or_rotate: Callable[..., Awaitable[list[WebhookSecret]]],
) -> Envelope[WebhookSecretsRead]:
    principal.require_admin()
    rows = await read_or_rotate(session, principal.tenant_id, settings=settings, now=now)
    current, *previous = [WebhookSecretRead.model_validate(r) for r in rows]
    return ok(WebhookSecretsRead(current=current, previous=previous))


@router.get("/webhook-secret")
async def get_webhook_secret(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep, now: NowDep
) -> Envelope[WebhookSecretsRead]:
    """The tenant's signing secrets that are live now: receivers verify with these."""
    return await _secrets(session, principal, settings, now, secrets.live_secrets)


@router.post("/webhook-secret/rotate")
async def rotate_webhook_secret(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep, now: NowDep
) -> Envelope[WebhookSecretsRead]:
    """A new current secret; the old ones keep signing for PRACTICEGEN_WEBHOOK_SECRET_GRACE_S."""
    return await _secrets(session, principal, settings, now, secrets.rotate)
