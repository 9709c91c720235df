"""SQL for the catalogue: the bank's active items counted per skill, in one grouped query."""

from __future__ import annotations

import uuid
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.db.models import Item, core_table

_items = core_table(Item)


class SkillCount(NamedTuple):
    subject: str
    topic: str
    skill: str
    items: int


async def active_counts(session: AsyncSession, tenant_id: uuid.UUID) -> list[SkillCount]:
    """The tenant's active items per (subject, topic, skill); read from the selection index."""
    query = (
        select(_items.c.subject, _items.c.topic, _items.c.skill, func.count())
        .where(_items.c.tenant_id == tenant_id, _items.c.status == "active")
        .group_by(_items.c.subject, _items.c.topic, _items.c.skill)
    )
    return [SkillCount(*row) for row in await session.execute(query)]
