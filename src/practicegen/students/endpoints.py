"""HTTP edge for students: /api/v1/students."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from practicegen.api.deps import CursorDep, LimitDep, SessionDep
from practicegen.api.envelope import Envelope, Page, ok
from practicegen.auth.deps import PrincipalDep
from practicegen.students import service
from practicegen.students.schemas import StudentCreate, StudentRead, StudentUpdate

router = APIRouter(prefix="/api/v1/students", tags=["students"])
_read = StudentRead.model_validate  # from a `Student` row


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_student(
    body: StudentCreate, session: SessionDep, principal: PrincipalDep
) -> Envelope[StudentRead]:
    return ok(_read(await service.create_student(session, principal=principal, body=body)))


@router.get("")
async def list_students(
    session: SessionDep, principal: PrincipalDep, limit: LimitDep, cursor: CursorDep = None
) -> Envelope[Page[StudentRead]]:
    rows, next_cursor = await service.list_students(
        session, principal=principal, cursor=cursor, limit=limit
    )
    return ok(Page(items=[_read(r) for r in rows], next_cursor=next_cursor))


@router.get("/{student_id}")
async def get_student(
    student_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Envelope[StudentRead]:
    row = await service.get_student(session, principal=principal, student_id=student_id)
    return ok(_read(row))


@router.patch("/{student_id}")
async def update_student(
    student_id: uuid.UUID, body: StudentUpdate, session: SessionDep, principal: PrincipalDep
) -> Envelope[StudentRead]:
    student = await service.update_student(
        session, principal=principal, student_id=student_id, body=body
    )
    return ok(_read(student))
