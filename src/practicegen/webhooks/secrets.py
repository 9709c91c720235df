"""Each tenant's webhook signing secrets: the current one, and those rotated out but still live.

A receiver holds the secret it verifies with, so replacing ours at once would fail every
delivery until its configuration catches up. Rotation adds a new current secret and ends the
old ones after `PRACTICEGEN_WEBHOOK_SECRET_GRACE_S`; until then every live secret signs each
delivery, so a receiver holding either verifies. Ended secrets are deleted at the next rotation
or first use.

A tenant's first secret is made when first needed: for the default tenant
`PRACTICEGEN_WEBHOOK_SECRET` when set, else a generated one. Making it and rotating are
serialised per tenant, so two racing requests never leave two current secrets.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.auth.principal import DEFAULT_TENANT_ID
from practicegen.config import Settings
from practicegen.db.models import WebhookSecret
from practicegen.webhooks import signing
from practicegen.webhooks.repository import WebhookSecretRepository

log = structlog.get_logger()


def _first_secret(tenant_id: uuid.UUID, settings: Settings) -> str:
    configured = settings.webhook_secret
    if configured is not None and tenant_id == DEFAULT_TENANT_ID:
        return configured.get_secret_value()
    return signing.new_secret()


async def live_secrets(
    session: AsyncSession, tenant_id: uuid.UUID, *, settings: Settings, now: datetime
) -> list[WebhookSecret]:
    """The tenant's live secrets, current first, making the first one if it has none."""
    repo = WebhookSecretRepository(session)
    live = await repo.list_live(tenant_id, now)
    if live:
        return live
    await repo.lock(tenant_id, now)
    live = await repo.list_live(tenant_id, now)  # another request may have made it meanwhile
    if live:
        return live
    first = _first_secret(tenant_id, settings)
    await repo.add(WebhookSecret(tenant_id=tenant_id, secret=first, created_at=now))
    log.info("webhooks.secret_created", tenant_id=str(tenant_id))
    return await repo.list_live(tenant_id, now)


async def rotate(
    session: AsyncSession, tenant_id: uuid.UUID, *, settings: Settings, now: datetime
) -> list[WebhookSecret]:
    """Make a new current secret; the ones it replaces sign beside it for the grace period.

    A secret that already ends sooner than the grace keeps its earlier end, so rotating twice
    in a row never extends the life of an old secret.
    """
    repo = WebhookSecretRepository(session)
    await live_secrets(session, tenant_id, settings=settings, now=now)
    await repo.lock(tenant_id, now)
    ends = now + timedelta(seconds=settings.webhook_secret_grace_s)
    await repo.end_live(tenant_id, ends)
    fresh = WebhookSecret(tenant_id=tenant_id, secret=signing.new_secret(), created_at=now)
    await repo.add(fresh)
    log.info(
        "webhooks.secret_rotated",
        tenant_id=str(tenant_id),
        secret_suffix=fresh.secret[-4:],
        old_secrets_end=ends.isoformat(),
    )
    return await repo.list_live(tenant_id, now)
