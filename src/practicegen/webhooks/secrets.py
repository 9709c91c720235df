"""Each tenant's webhook signing secrets: the current one, and those rotated out still signing
for the grace period; making the first and rotating are serialised per tenant."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import structlog
from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.auth.principal import DEFAULT_TENANT_ID
from practicegen.config import Settings
from practicegen.db.models import Tenant, WebhookSecret
from practicegen.webhooks import signing

log = structlog.get_logger()


async def _list_live(
    session: AsyncSession, tenant_id: uuid.UUID, now: datetime
) -> list[WebhookSecret]:
    """Secrets without an end first, then the others by how long they still live."""
    query = (
        select(WebhookSecret)
        .where(WebhookSecret.tenant_id == tenant_id)
        .where(or_(WebhookSecret.expires_at.is_(None), WebhookSecret.expires_at > now))
        .order_by(WebhookSecret.expires_at.desc().nulls_first(), WebhookSecret.created_at.desc())
        .execution_options(populate_existing=True)
    )
    return list((await session.execute(query)).scalars())


async def _lock(session: AsyncSession, tenant_id: uuid.UUID, now: datetime) -> None:
    """Hold the tenant's secrets until the transaction ends, and drop the ended ones: `FOR NO
    KEY UPDATE` of the tenant row on PostgreSQL; on SQLite the DELETE takes the write lock."""
    query = select(Tenant.id).where(Tenant.id == tenant_id).with_for_update(key_share=True)
    await session.execute(query)
    await session.execute(
        delete(WebhookSecret).where(
            WebhookSecret.tenant_id == tenant_id, WebhookSecret.expires_at <= now
        )
    )


async def _add(session: AsyncSession, tenant_id: uuid.UUID, secret: str, now: datetime) -> None:
    session.add(WebhookSecret(tenant_id=tenant_id, secret=secret, created_at=now))
    await session.flush()


async def live_secrets(
    session: AsyncSession, tenant_id: uuid.UUID, *, settings: Settings, now: datetime
) -> list[WebhookSecret]:
    """The tenant's live secrets, current first, making the first one if it has none."""
    live = await _list_live(session, tenant_id, now)
    if live:
        return live
    await _lock(session, tenant_id, now)
    live = await _list_live(session, tenant_id, now)  # another request may have made it meanwhile
    if live:
        return live
    configured = settings.webhook_secret if tenant_id == DEFAULT_TENANT_ID else None
    first = configured.get_secret_value() if configured is not None else signing.new_secret()
    await _add(session, tenant_id, first, now)
    log.info("webhooks.secret_created", tenant_id=str(tenant_id))
    return await _list_live(session, tenant_id, now)


async def rotate(
    session: AsyncSession, tenant_id: uuid.UUID, *, settings: Settings, now: datetime
) -> list[WebhookSecret]:
    """A new current secret; the others sign beside it for the grace period, or less."""
    await live_secrets(session, tenant_id, settings=settings, now=now)
    await _lock(session, tenant_id, now)
    ends = now + timedelta(seconds=settings.webhook_secret_grace_s)
    await session.execute(
        update(WebhookSecret)
        .where(
            WebhookSecret.tenant_id == tenant_id,
            or_(WebhookSecret.expires_at.is_(None), WebhookSecret.expires_at > ends),
        )
        .values(expires_at=ends)
        .execution_options(synchronize_session=False)
    )
    fresh = signing.new_secret()
    await _add(session, tenant_id, fresh, now)
    log.info(
        "webhooks.secret_rotated",
        tenant_id=str(tenant_id),
        secret_suffix=fresh[-4:],
        old_secrets_end=ends.isoformat(),
    )
    return await _list_live(session, tenant_id, now)
