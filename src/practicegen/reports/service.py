"""The reports: a student's mastery, a student's assignments with scores, a class's students by
skills. A student token reads its own student's; a class report needs a server-side key."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.auth.principal import Principal
from practicegen.classes.repository import ClassRepository
from practicegen.config import Settings
from practicegen.practice.learner import p_correct
from practicegen.reports import queries
from practicegen.reports.schemas import (
    AssignmentSummary,
    ClassReport,
    Mastery,
    MasteryRule,
    ReportRow,
    SkillStanding,
)
from practicegen.students.repository import StudentRepository


def mastery_rule(settings: Settings) -> MasteryRule:
    return MasteryRule(success=settings.mastery_success, min_answers=settings.mastery_min_answers)


async def student_mastery(
    session: AsyncSession, *, principal: Principal, student_id: uuid.UUID, rule: MasteryRule
) -> Mastery:
    principal.require_student_access(student_id)
    await StudentRepository(session).get_or_raise(principal.tenant_id, student_id)
    rows = await _standings(session, principal.tenant_id, queries.of_student(student_id), rule)
    return Mastery(student_id=student_id, rule=rule, skills=rows.get(student_id, []))


async def student_assignments(
    session: AsyncSession,
    *,
    principal: Principal,
    student_id: uuid.UUID,
    cursor: str | None,
    limit: int,
) -> tuple[list[AssignmentSummary], str | None]:
    principal.require_student_access(student_id)
    await StudentRepository(session).get_or_raise(principal.tenant_id, student_id)
    rows, next_cursor = await queries.scored_assignments(
        session, principal.tenant_id, student_id, cursor=cursor, limit=limit
    )
    return [
        AssignmentSummary(
            assignment_id=a.id,
            answered=answered,
            correct=correct,
            **{name: getattr(a, name) for name in ("subject", "topic", "num_items", "created_at")},
        )
        for a, answered, correct in rows
    ], next_cursor


async def class_report(
    session: AsyncSession, *, principal: Principal, class_id: uuid.UUID, rule: MasteryRule
) -> ClassReport:
    principal.require_server()
    repo = ClassRepository(session)
    row = await repo.get_or_raise(principal.tenant_id, class_id)
    students = await repo.members(row.id)
    standings = await _standings(session, principal.tenant_id, queries.of_class(row.id), rule)
    return ClassReport(
        class_id=row.id,
        name=row.name,
        rule=rule,
        skills=sorted({s.skill for rows in standings.values() for s in rows}),
        students=[
            ReportRow(
                student_id=s.id,
                display_name=s.display_name,
                external_id=s.external_id,
                skills={x.skill: x for x in standings.get(s.id, [])},
            )
            for s in students
        ],
    )


async def _standings(
    session: AsyncSession, tenant_id: uuid.UUID, students: ColumnElement[bool], rule: MasteryRule
) -> dict[uuid.UUID, list[SkillStanding]]:
    estimates = await queries.estimates(session, tenant_id, students)
    typical = await queries.typical_difficulties(session, tenant_id, {e[1] for e in estimates})
    by_student: dict[uuid.UUID, list[SkillStanding]] = {}
    for student_id, skill, theta, n, updated in sorted(estimates, key=lambda e: e[1]):
        chance = p_correct(theta, typical.get(skill, 0.0))  # on an item of typical difficulty
        at = SkillStanding(
            skill=skill,
            ability=round(theta, 3),
            typical_success=round(chance, 3),
            answered=n,
            last_practised=updated,
            mastered=n >= rule.min_answers and chance >= rule.success,
        )
        by_student.setdefault(student_id, []).append(at)
    return by_student
