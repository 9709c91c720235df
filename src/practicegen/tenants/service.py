"""Reading and changing a tenant's settings (admin keys only), and the policy generation reads."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.auth.principal import Principal
from practicegen.tenants.repository import PolicyRepository
from practicegen.tenants.schemas import TenantSettingsRead, TenantSettingsUpdate


async def get_settings(session: AsyncSession, *, principal: Principal) -> TenantSettingsRead:
    principal.require_admin()
    return await _read(session, principal.tenant_id)


async def update_settings(
    session: AsyncSession, *, principal: Principal, body: TenantSettingsUpdate, now: datetime
) -> TenantSettingsRead:
    principal.require_admin()
    if body.require_check_model is not None:
        await PolicyRepository(session).set_require_check_model(
            principal.tenant_id, body.require_check_model, now=now
        )
    return await _read(session, principal.tenant_id)


async def requires_check_model(session: AsyncSession, tenant_id: uuid.UUID) -> bool:
    """Whether the tenant accepts a model's multiple-choice question only on a second model's
    agreement, never on the writer's self-consistency alone."""
    return await PolicyRepository(session).require_check_model(tenant_id)


async def _read(session: AsyncSession, tenant_id: uuid.UUID) -> TenantSettingsRead:
    return TenantSettingsRead(require_check_model=await requires_check_model(session, tenant_id))
