"""Creating, reading, listing and updating students."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.auth.principal import Principal
from practicegen.db.models import Student
from practicegen.students.repository import StudentRepository
from practicegen.students.schemas import StudentCreate, StudentUpdate


async def create_student(
    session: AsyncSession, *, principal: Principal, body: StudentCreate
) -> Student:
    principal.require_server()
    fields = body.model_dump(exclude={"metadata"})
    student = Student(tenant_id=principal.tenant_id, metadata_=body.metadata, **fields)
    await StudentRepository(session).add(student)
    return student


async def get_student(
    session: AsyncSession, *, principal: Principal, student_id: uuid.UUID
) -> Student:
    principal.require_student_access(student_id)
    return await StudentRepository(session).get_or_raise(principal.tenant_id, student_id)


async def list_students(
    session: AsyncSession, *, principal: Principal, cursor: str | None, limit: int
) -> tuple[list[Student], str | None]:
    principal.require_server()
    repo = StudentRepository(session)
    return await repo.page(repo.owned(principal.tenant_id), cursor=cursor, limit=limit)


async def update_student(
    session: AsyncSession, *, principal: Principal, student_id: uuid.UUID, body: StudentUpdate
) -> Student:
    principal.require_server()
    student = await StudentRepository(session).get_or_raise(principal.tenant_id, student_id)
    for name in body.model_fields_set & {"display_name", "grade_level"}:
        setattr(student, name, getattr(body, name))
    if body.metadata is not None:
        student.metadata_ = body.metadata
    await session.flush()
    return student
