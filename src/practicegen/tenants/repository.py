"""SQL for a tenant's generation policy: one row per tenant that changed a default."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.db.models import TenantGenerationPolicy
from practicegen.db.upsert import upsert


class PolicyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def require_check_model(self, tenant_id: uuid.UUID) -> bool:
        query = select(TenantGenerationPolicy.require_check_model).where(
            TenantGenerationPolicy.tenant_id == tenant_id
        )
        return bool((await self.session.execute(query)).scalar_one_or_none())

    async def set_require_check_model(
        self, tenant_id: uuid.UUID, value: bool, *, now: datetime
    ) -> None:
        statement = upsert(self.session, TenantGenerationPolicy).values(
            tenant_id=tenant_id, require_check_model=value, updated_at=now
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["tenant_id"],
                set_={"require_check_model": value, "updated_at": now},
            )
        )
