"""SQL for goals. Every read is scoped by tenant."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from practicegen.db.models import Goal
from practicegen.db.repository import TenantRepository
from practicegen.errors import GoalNotFound


class GoalRepository(TenantRepository[Goal]):
    model = Goal
    not_found = GoalNotFound
    id_detail = "goal_id"

    async def list_by_ids(self, tenant_id: uuid.UUID, goal_ids: Sequence[uuid.UUID]) -> list[Goal]:
        query = self.owned(tenant_id).where(Goal.id.in_(goal_ids))
        return list((await self.session.execute(query)).scalars())

    async def list_page(
        self, tenant_id: uuid.UUID, *, subject: str | None, cursor: str | None, limit: int
    ) -> tuple[list[Goal], str | None]:
        query = self.owned(tenant_id)
        if subject is not None:
            query = query.where(Goal.subject == subject)
        return await self.page(query, cursor=cursor, limit=limit)
