"""SQL for the reports: learner estimates, the bank's typical difficulty per skill, and
assignments with their scores. Every query is scoped by tenant."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.db.models import Assignment, ClassMember, Item, LearnerSkill, Response
from practicegen.db.pagination import after_cursor, split_page

Estimate = tuple[uuid.UUID, str, float, int, datetime]  # student, skill, theta, n, updated


async def estimates(
    session: AsyncSession, tenant_id: uuid.UUID, students: ColumnElement[bool]
) -> list[Estimate]:
    """The learner model's estimates of the students `students` selects, by skill."""
    query = select(
        LearnerSkill.student_id,
        LearnerSkill.skill,
        LearnerSkill.theta,
        LearnerSkill.responses_n,
        LearnerSkill.updated_at,
    ).where(LearnerSkill.tenant_id == tenant_id, LearnerSkill.responses_n > 0, students)
    return [(s, k, t, n, at) for s, k, t, n, at in await session.execute(query)]


def of_student(student_id: uuid.UUID) -> ColumnElement[bool]:
    return LearnerSkill.student_id == student_id


def of_class(class_id: uuid.UUID) -> ColumnElement[bool]:
    members = select(ClassMember.student_id).where(ClassMember.class_id == class_id)
    return LearnerSkill.student_id.in_(members.scalar_subquery())


async def typical_difficulties(
    session: AsyncSession, tenant_id: uuid.UUID, skills: Collection[str]
) -> dict[str, float]:
    """Each skill's mean item difficulty in the tenant's bank (absent: no item)."""
    if not skills:
        return {}
    query = (
        select(Item.skill, func.avg(Item.difficulty))
        .where(Item.tenant_id == tenant_id, Item.status == "active", Item.skill.in_(skills))
        .group_by(Item.skill)
    )
    return {skill: float(mean) for skill, mean in await session.execute(query)}


async def scored_assignments(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    student_id: uuid.UUID,
    *,
    cursor: str | None,
    limit: int,
) -> tuple[list[tuple[Assignment, int, int]], str | None]:
    """A page of the student's assignments, newest first, with answered and correct counts."""
    correct = func.coalesce(func.sum(case((Response.correct, 1), else_=0)), 0)
    scored = (
        select(Assignment, func.count(Response.id), correct)
        .outerjoin(Response, Response.assignment_id == Assignment.id)
        .where(Assignment.tenant_id == tenant_id, Assignment.student_id == student_id)
        .group_by(Assignment.id)
    )
    query = after_cursor(
        scored, Assignment.created_at, Assignment.id, cursor, limit, newest_first=True
    )
    rows = [(a, int(n), int(c)) for a, n, c in await session.execute(query)]
    _, next_cursor = split_page([a for a, _, _ in rows], limit)
    return rows[:limit], next_cursor
