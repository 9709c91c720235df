"""SQL for webhook signing secrets and for listing a job's deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, or_, select, update

from practicegen.db.models import Job, Tenant, WebhookAttempt, WebhookSecret
from practicegen.db.repository import TenantRepository


class WebhookSecretRepository(TenantRepository[WebhookSecret]):
    model = WebhookSecret

    async def list_live(self, tenant_id: uuid.UUID, now: datetime) -> list[WebhookSecret]:
        """Secrets without an end or ending after `now`: the one without an end first, then
        the others by how long they still live."""
        query = (
            self.owned(tenant_id)
            .where(or_(WebhookSecret.expires_at.is_(None), WebhookSecret.expires_at > now))
            .order_by(
                WebhookSecret.expires_at.desc().nulls_first(), WebhookSecret.created_at.desc()
            )
            .execution_options(populate_existing=True)
        )
        return list((await self.session.execute(query)).scalars())

    async def lock(self, tenant_id: uuid.UUID, now: datetime) -> None:
        """Hold the tenant's secrets until the transaction ends, and drop the ended ones.

        On PostgreSQL `FOR NO KEY UPDATE` on the tenant row does it (which still lets other
        transactions insert rows that reference the tenant). SQLite has no row locks; there the
        DELETE, as the transaction's first write, takes the database's write lock, and the reads
        that follow see everything committed before it.
        """
        query = select(Tenant.id).where(Tenant.id == tenant_id).with_for_update(key_share=True)
        await self.session.execute(query)
        await self.session.execute(
            delete(WebhookSecret).where(
                WebhookSecret.tenant_id == tenant_id, WebhookSecret.expires_at <= now
            )
        )

    async def end_live(self, tenant_id: uuid.UUID, ends: datetime) -> None:
        """Give every secret that would outlive `ends` that end."""
        await self.session.execute(
            update(WebhookSecret)
            .where(
                WebhookSecret.tenant_id == tenant_id,
                or_(WebhookSecret.expires_at.is_(None), WebhookSecret.expires_at > ends),
            )
            .values(expires_at=ends)
            .execution_options(synchronize_session=False)
        )


class DeliveryRepository(TenantRepository[Job]):
    model = Job

    async def list_for_job(
        self, tenant_id: uuid.UUID, job_id: uuid.UUID, job_type: str
    ) -> list[Job]:
        """The deliveries (jobs of `job_type`) reporting on `job_id`, oldest first."""
        query = (
            self.owned(tenant_id)
            .where(Job.job_type == job_type)
            .where(Job.request["source_job_id"].as_string() == str(job_id))
            .order_by(Job.created_at)
        )
        return list((await self.session.execute(query)).scalars())

    async def attempts_for_job(self, job_id: uuid.UUID) -> list[WebhookAttempt]:
        """Every attempt of every delivery reporting on `job_id`, oldest first."""
        query = (
            select(WebhookAttempt)
            .where(WebhookAttempt.source_job_id == job_id)
            .order_by(WebhookAttempt.created_at)
        )
        return list((await self.session.execute(query)).scalars())
