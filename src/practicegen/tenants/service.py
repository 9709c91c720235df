"""Reading and changing a tenant's settings (admin keys only), and the policy generation reads:
one row of `tenant_generation_policies`, kept once it changed a default."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, StrictBool
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.auth.principal import Principal
from practicegen.db.models import TenantGenerationPolicy
from practicegen.db.upsert import upsert


class TenantSettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    require_check_model: StrictBool | None = None


class TenantSettingsRead(BaseModel):
    require_check_model: bool


async def get_settings(session: AsyncSession, *, principal: Principal) -> TenantSettingsRead:
    principal.require_admin()
    required = await requires_check_model(session, principal.tenant_id)
    return TenantSettingsRead(require_check_model=required)


async def update_settings(
    session: AsyncSession, *, principal: Principal, body: TenantSettingsUpdate, now: datetime
) -> TenantSettingsRead:
    principal.require_admin()
    if (required := body.require_check_model) is not None:
        await set_require_check_model(session, principal.tenant_id, required, now=now)
    return await get_settings(session, principal=principal)


async def requires_check_model(session: AsyncSession, tenant_id: uuid.UUID) -> bool:
    """Whether the tenant needs a second model to agree with a multiple-choice key."""
    query = select(TenantGenerationPolicy.require_check_model).where(
        TenantGenerationPolicy.tenant_id == tenant_id
    )
    return bool((await session.execute(query)).scalar_one_or_none())


async def set_require_check_model(
    session: AsyncSession, tenant_id: uuid.UUID, value: bool, *, now: datetime
) -> None:
    changed = {"require_check_model": value, "updated_at": now}
    statement = upsert(session, TenantGenerationPolicy).values(tenant_id=tenant_id, **changed)
    await session.execute(
        statement.on_conflict_do_update(index_elements=["tenant_id"], set_=changed)
    )
