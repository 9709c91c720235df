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
    """The tenant's active items per (subject, topic, skill), from the selection index alone.

    Grouped in the index's column order, status included and filtered here: a `status` filter
    in SQL makes SQLite sort the groups in a temporary tree instead of reading them in order.
    """
    columns = (_items.c.subject, _items.c.status, _items.c.topic, _items.c.skill)
    query = select(*columns, func.count()).where(_items.c.tenant_id == tenant_id).group_by(*columns)
    return [
        SkillCount(subject, topic, skill, items)
        for subject, status, topic, skill, items in await session.execute(query)
        if status == "active"
    ]
