"""SQL for students. Every read is scoped by tenant."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.db.models import Student
from practicegen.db.pagination import after_cursor, split_page
from practicegen.errors import DuplicateExternalId, StudentNotFound


class StudentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, tenant_id: uuid.UUID, student_id: uuid.UUID) -> Student | None:
        query = select(Student).where(Student.tenant_id == tenant_id, Student.id == student_id)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def get_or_raise(self, tenant_id: uuid.UUID, student_id: uuid.UUID) -> Student:
        student = await self.get(tenant_id, student_id)
        if student is None:
            raise StudentNotFound(student_id=str(student_id))
        return student

    async def get_by_external_id(self, tenant_id: uuid.UUID, external_id: str) -> Student | None:
        query = select(Student).where(
            Student.tenant_id == tenant_id, Student.external_id == external_id
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def list_page(
        self, tenant_id: uuid.UUID, *, cursor: str | None, limit: int
    ) -> tuple[list[Student], str | None]:
        query = after_cursor(
            select(Student).where(Student.tenant_id == tenant_id),
            Student.created_at,
            Student.id,
            cursor,
            limit,
        )
        return split_page(list((await self.session.execute(query)).scalars()), limit)

    async def add(self, student: Student) -> None:
        self.session.add(student)
        try:
            await self.session.flush()
        except IntegrityError as exc:  # a concurrent create with the same external_id won
            raise DuplicateExternalId(external_id=student.external_id) from exc
