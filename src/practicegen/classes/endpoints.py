"""HTTP edge for classes: /api/v1/classes and their rosters."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from practicegen.api.deps import CursorDep, LimitDep, SessionDep, SettingsDep
from practicegen.api.envelope import Envelope, Page, ok
from practicegen.auth.deps import PrincipalDep
from practicegen.classes import service
from practicegen.classes.schemas import ClassCreate, ClassRead, ClassUpdate, Members
from practicegen.students.schemas import StudentRead

router = APIRouter(prefix="/api/v1/classes", tags=["classes"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_class(
    body: ClassCreate, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> Envelope[ClassRead]:
    limit = settings.class_max_students
    return ok(await service.create_class(session, principal=principal, body=body, limit=limit))


@router.get("")
async def list_classes(
    session: SessionDep, principal: PrincipalDep, limit: LimitDep, cursor: CursorDep = None
) -> Envelope[Page[ClassRead]]:
    rows, next_cursor = await service.list_classes(
        session, principal=principal, cursor=cursor, limit=limit
    )
    return ok(Page(items=rows, next_cursor=next_cursor))


@router.get("/{class_id}")
async def get_class(
    class_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Envelope[ClassRead]:
    return ok(await service.get_class(session, principal=principal, class_id=class_id))


@router.patch("/{class_id}")
async def rename_class(
    class_id: uuid.UUID, body: ClassUpdate, session: SessionDep, principal: PrincipalDep
) -> Envelope[ClassRead]:
    return ok(
        await service.rename_class(session, principal=principal, class_id=class_id, name=body.name)
    )


@router.delete("/{class_id}")
async def delete_class(
    class_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Envelope[ClassRead]:
    """Delete the class (answered with it as it was); its students and their work stay."""
    return ok(await service.delete_class(session, principal=principal, class_id=class_id))


@router.get("/{class_id}/students")
async def list_class_students(
    class_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Envelope[Page[StudentRead]]:
    """The whole roster, by name (a class is bounded by `PRACTICEGEN_CLASS_MAX_STUDENTS`)."""
    students = await service.roster(session, principal=principal, class_id=class_id)
    return ok(Page(items=[StudentRead.model_validate(s) for s in students], next_cursor=None))


@router.post("/{class_id}/students")
async def add_class_students(
    class_id: uuid.UUID,
    body: Members,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
) -> Envelope[ClassRead]:
    """Add students by id or `external_id`; those already in the class stay as they are."""
    limit = settings.class_max_students
    added = await service.add_students(
        session, principal=principal, class_id=class_id, members=body, limit=limit
    )
    return ok(added)


@router.delete("/{class_id}/students/{student_id}")
async def remove_class_student(
    class_id: uuid.UUID, student_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Envelope[ClassRead]:
    """Remove a student from the class (one not in it is already removed); the student and
    their work stay."""
    removed = await service.remove_student(
        session, principal=principal, class_id=class_id, student_id=student_id
    )
    return ok(removed)
