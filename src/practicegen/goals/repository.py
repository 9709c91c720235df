"""SQL for goals. Every read is scoped by tenant."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.db.models import Goal
from practicegen.db.pagination import after_cursor, split_page


class GoalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, tenant_id: uuid.UUID, goal_id: uuid.UUID) -> Goal | None:
        query = select(Goal).where(Goal.tenant_id == tenant_id, Goal.id == goal_id)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def list_by_ids(self, tenant_id: uuid.UUID, goal_ids: Sequence[uuid.UUID]) -> list[Goal]:
        query = select(Goal).where(Goal.tenant_id == tenant_id, Goal.id.in_(goal_ids))
        return list((await self.session.execute(query)).scalars())

    async def list_page(
        self, tenant_id: uuid.UUID, *, subject: str | None, cursor: str | None, limit: int
    ) -> tuple[list[Goal], str | None]:
        query = select(Goal).where(Goal.tenant_id == tenant_id)
        if subject is not None:
            query = query.where(Goal.subject == subject)
        query = after_cursor(query, Goal.created_at, Goal.id, cursor, limit)
        return split_page(list((await self.session.execute(query)).scalars()), limit)

    async def add(self, goal: Goal) -> None:
        self.session.add(goal)
        await self.session.flush()
