"""SQL for assignments, their items, responses and the learner's per-skill state."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.db.models import (
    Assignment,
    AssignmentItem,
    Item,
    LearnerSkill,
    Response,
    utcnow,
)


class PracticeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_assignment(
        self, tenant_id: uuid.UUID, assignment_id: uuid.UUID
    ) -> Assignment | None:
        query = select(Assignment).where(
            Assignment.tenant_id == tenant_id, Assignment.id == assignment_id
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def assignment_items(self, assignment_id: uuid.UUID) -> list[tuple[AssignmentItem, Item]]:
        query = (
            select(AssignmentItem, Item)
            .join(Item, Item.id == AssignmentItem.item_id)
            .where(AssignmentItem.assignment_id == assignment_id)
            .order_by(AssignmentItem.position)
        )
        return [(ai, item) for ai, item in (await self.session.execute(query)).all()]

    async def responses(self, assignment_id: uuid.UUID) -> list[Response]:
        query = select(Response).where(Response.assignment_id == assignment_id)
        return list((await self.session.execute(query)).scalars())

    async def response_at(self, assignment_id: uuid.UUID, position: int) -> Response | None:
        query = select(Response).where(
            Response.assignment_id == assignment_id, Response.position == position
        )
        return (await self.session.execute(query)).scalars().first()

    async def recent_items(
        self, tenant_id: uuid.UUID, student_id: uuid.UUID, assignments: int
    ) -> list[tuple[uuid.UUID, str]]:
        """(item id, fingerprint) of the items in the student's latest assignments."""
        if assignments <= 0:
            return []
        latest = (
            select(Assignment.id)
            .where(Assignment.tenant_id == tenant_id, Assignment.student_id == student_id)
            .order_by(Assignment.created_at.desc())
            .limit(assignments)
            .scalar_subquery()
        )
        query = (
            select(Item.id, Item.fingerprint)
            .join(AssignmentItem, AssignmentItem.item_id == Item.id)
            .where(AssignmentItem.assignment_id.in_(latest))
        )
        return [(row[0], row[1]) for row in await self.session.execute(query)]

    async def skills(self, student_id: uuid.UUID) -> dict[str, LearnerSkill]:
        query = select(LearnerSkill).where(LearnerSkill.student_id == student_id)
        return {row.skill: row for row in (await self.session.execute(query)).scalars()}

    async def lock_skill(
        self, *, tenant_id: uuid.UUID, student_id: uuid.UUID, skill: str, prior: float
    ) -> LearnerSkill:
        """The student's row for `skill`, created at the prior if missing, locked for update."""
        values = {
            "student_id": student_id,
            "skill": skill,
            "tenant_id": tenant_id,
            "theta": prior,
            "responses_n": 0,
            "updated_at": utcnow(),
        }
        insert = (
            postgres_insert
            if self.session.get_bind().dialect.name == "postgresql"
            else sqlite_insert
        )
        await self.session.execute(insert(LearnerSkill).values(values).on_conflict_do_nothing())
        query = (
            select(LearnerSkill)
            .where(LearnerSkill.student_id == student_id, LearnerSkill.skill == skill)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(query)).scalar_one()

    async def shift_item_difficulty(self, item_id: uuid.UUID, delta: float) -> None:
        """Add to an item's difficulty atomically, so concurrent answers don't lose updates."""
        await self.session.execute(
            update(Item)
            .where(Item.id == item_id)
            .values(difficulty=Item.difficulty + delta, responses_n=Item.responses_n + 1)
        )

    async def add(self, *rows: object) -> None:
        for row in rows:
            self.session.add(row)
        await self.session.flush()
