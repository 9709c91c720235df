"""Creating, renaming, listing and deleting classes, and changing who is in them. Only
server-side keys manage classes; a student token sees none."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.auth.principal import Principal
from practicegen.classes.repository import ClassRepository
from practicegen.classes.schemas import ClassCreate, ClassRead, StudentNames
from practicegen.db.models import Class, Student
from practicegen.errors import Conflict, StudentNotFound


class ClassFull(Conflict):
    code = "class_full"
    default_message = "The class would hold more students than a class may."


async def create_class(
    session: AsyncSession, *, principal: Principal, body: ClassCreate, limit: int
) -> ClassRead:
    principal.require_server()
    row = Class(tenant_id=principal.tenant_id, name=body.name)
    repo = ClassRepository(session)
    await repo.add(row)
    return _read(row, await _add(repo, principal, row, body, limit))


async def get_class(
    session: AsyncSession, *, principal: Principal, class_id: uuid.UUID
) -> ClassRead:
    return await _view(*await _class(session, principal, class_id))


async def list_classes(
    session: AsyncSession, *, principal: Principal, cursor: str | None, limit: int
) -> tuple[list[ClassRead], str | None]:
    principal.require_server()
    repo = ClassRepository(session)
    rows, next_cursor = await repo.page(repo.owned(principal.tenant_id), cursor=cursor, limit=limit)
    counts = await repo.counts([r.id for r in rows])
    return [_read(r, counts.get(r.id, 0)) for r in rows], next_cursor


async def rename_class(
    session: AsyncSession, *, principal: Principal, class_id: uuid.UUID, name: str
) -> ClassRead:
    repo, row = await _class(session, principal, class_id)
    row.name = name
    await session.flush()
    return await _view(repo, row)


async def delete_class(
    session: AsyncSession, *, principal: Principal, class_id: uuid.UUID
) -> ClassRead:
    """The class as it was; its students and their work stay."""
    repo, row = await _class(session, principal, class_id)
    was = await _view(repo, row)
    await repo.delete(row)
    return was


async def add_students(
    session: AsyncSession,
    *,
    principal: Principal,
    class_id: uuid.UUID,
    members: StudentNames,
    limit: int,
) -> ClassRead:
    repo, row = await _class(session, principal, class_id)
    return _read(row, await _add(repo, principal, row, members, limit))


async def remove_student(
    session: AsyncSession, *, principal: Principal, class_id: uuid.UUID, student_id: uuid.UUID
) -> ClassRead:
    """Remove a student from the class; one who is not in it is already removed."""
    repo, row = await _class(session, principal, class_id)
    await repo.remove_member(row.id, student_id)
    return await _view(repo, row)


async def roster(
    session: AsyncSession, *, principal: Principal, class_id: uuid.UUID
) -> list[Student]:
    repo, row = await _class(session, principal, class_id)
    return await repo.members(row.id)


async def resolve_students(
    session: AsyncSession, tenant_id: uuid.UUID, members: StudentNames
) -> list[uuid.UUID]:
    """The ids of the tenant's students `members` names, in order; any unknown refuses all."""
    found: dict[object, uuid.UUID] = {}
    if members.student_ids:
        by_id = select(Student.id).where(
            Student.tenant_id == tenant_id, Student.id.in_(members.student_ids)
        )
        found |= {sid: sid for sid in (await session.execute(by_id)).scalars()}
    if members.external_ids:
        by_external = select(Student.external_id, Student.id).where(
            Student.tenant_id == tenant_id, Student.external_id.in_(members.external_ids)
        )
        found |= {e: sid for e, sid in await session.execute(by_external)}
    missing_ids = [str(s) for s in members.student_ids if s not in found]
    missing_external = [e for e in members.external_ids if e not in found]
    if missing_ids or missing_external:
        raise StudentNotFound(
            "Some students named do not exist; nothing was changed.",
            student_ids=missing_ids,
            external_ids=missing_external,
        )
    named = [found[s] for s in members.student_ids] + [found[e] for e in members.external_ids]
    return list(dict.fromkeys(named))


async def _add(
    repo: ClassRepository, principal: Principal, row: Class, members: StudentNames, limit: int
) -> int:
    """Add the students named; how many the class then holds."""
    student_ids = await resolve_students(repo.session, principal.tenant_id, members)
    await repo.add_members(row.id, student_ids)
    held = (await repo.counts([row.id])).get(row.id, 0)
    if held > limit:
        raise ClassFull(limit=limit, would_hold=held)
    return held


async def _class(
    session: AsyncSession, principal: Principal, class_id: uuid.UUID
) -> tuple[ClassRepository, Class]:
    """The caller's class `class_id` (server keys only), and the repository that read it."""
    principal.require_server()
    repo = ClassRepository(session)
    return repo, await repo.get_or_raise(principal.tenant_id, class_id)


async def _view(repo: ClassRepository, row: Class) -> ClassRead:
    return _read(row, (await repo.counts([row.id])).get(row.id, 0))


def _read(row: Class, student_count: int) -> ClassRead:
    return ClassRead(
        class_id=row.id,
        name=row.name,
        student_count=student_count,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
