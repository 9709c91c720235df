"""HTTP edge for the reports: a student's mastery and assignments, a class's report."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from practicegen.api.deps import CursorDep, LimitDep, SessionDep, SettingsDep
from practicegen.api.envelope import Envelope, Page, ok
from practicegen.auth.deps import PrincipalDep
from practicegen.reports import service
from practicegen.reports.schemas import AssignmentSummary, ClassReport, Mastery

router = APIRouter(prefix="/api/v1", tags=["reports"])


@router.get("/students/{student_id}/mastery")
async def get_student_mastery(
    student_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> Envelope[Mastery]:
    """Per skill the student has practised: ability, the chance on a typical item, items
    answered, last practised, and whether mastered by the rule returned with it."""
    mastery = await service.student_mastery(
        session, principal=principal, student_id=student_id, rule=service.mastery_rule(settings)
    )
    return ok(mastery)


@router.get("/students/{student_id}/assignments")
async def list_student_assignments(
    student_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    limit: LimitDep,
    cursor: CursorDep = None,
) -> Envelope[Page[AssignmentSummary]]:
    """The student's assignments, newest first, with how many items were answered and right."""
    rows, next_cursor = await service.student_assignments(
        session, principal=principal, student_id=student_id, cursor=cursor, limit=limit
    )
    return ok(Page(items=rows, next_cursor=next_cursor))


@router.get("/classes/{class_id}/report")
async def get_class_report(
    class_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> Envelope[ClassReport]:
    """The class's students by skills: each cell a student's standing in a skill."""
    rule = service.mastery_rule(settings)
    report = await service.class_report(session, principal=principal, class_id=class_id, rule=rule)
    return ok(report)
