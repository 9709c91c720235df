"""SQL for classes and their members. Every read is scoped by tenant; a member row has no
tenant of its own, so members are reached only through a class of the caller's tenant."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import delete, func, select

from practicegen.db.models import Class, ClassMember, Student
from practicegen.db.repository import TenantRepository
from practicegen.db.upsert import upsert
from practicegen.errors import NotFound


class ClassNotFound(NotFound):
    code = "class_not_found"
    default_message = "No such class."


class ClassRepository(TenantRepository[Class]):
    model = Class
    not_found = ClassNotFound
    id_detail = "class_id"

    async def counts(self, class_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, int]:
        """How many students each of `class_ids` holds (absent: none)."""
        if not class_ids:
            return {}
        query = (
            select(ClassMember.class_id, func.count())
            .where(ClassMember.class_id.in_(class_ids))
            .group_by(ClassMember.class_id)
        )
        return {class_id: n for class_id, n in await self.session.execute(query)}

    async def add_members(self, class_id: uuid.UUID, student_ids: Sequence[uuid.UUID]) -> None:
        """Add students (of the class's tenant: the caller checked); those already in stay."""
        if not student_ids:
            return
        rows = [{"class_id": class_id, "student_id": s} for s in student_ids]
        await self.session.execute(
            upsert(self.session, ClassMember).values(rows).on_conflict_do_nothing()
        )

    async def remove_member(self, class_id: uuid.UUID, student_id: uuid.UUID) -> None:
        await self.session.execute(
            delete(ClassMember).where(
                ClassMember.class_id == class_id, ClassMember.student_id == student_id
            )
        )

    async def members(self, class_id: uuid.UUID) -> list[Student]:
        """The class's students, by name (then id), so a roster reads in a stable order."""
        query = (
            select(Student)
            .join(ClassMember, ClassMember.student_id == Student.id)
            .where(ClassMember.class_id == class_id)
            .order_by(Student.display_name, Student.id)
        )
        return list((await self.session.execute(query)).scalars())

    async def delete(self, row: Class) -> None:
        await self.session.delete(row)
        await self.session.flush()
