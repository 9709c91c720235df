"""Creating, reading, listing and updating goals, and resolving goal tags to skills."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.auth.principal import Principal
from practicegen.db.models import Goal
from practicegen.db.repository import TenantRepository
from practicegen.errors import GoalNotFound, UnknownGoal
from practicegen.goals.schemas import GoalCreate, GoalUpdate
from practicegen.items.names import Spellings, canonical_names


class GoalRepository(TenantRepository[Goal]):
    model = Goal
    not_found = GoalNotFound
    id_detail = "goal_id"


async def create_goal(
    session: AsyncSession, *, principal: Principal, body: GoalCreate, known: Spellings
) -> Goal:
    """A goal whose subject is spelled as `known` or the bank spells it (`items.names`)."""
    principal.require_server()
    subject, _ = await canonical_names(session, principal.tenant_id, body.subject, None, known)
    skills = list(dict.fromkeys(body.skills))
    written = body.model_dump(include={"name", "description"})
    goal = Goal(tenant_id=principal.tenant_id, subject=subject, skills=skills, **written)
    await GoalRepository(session).add(goal)
    return goal


async def get_goal(session: AsyncSession, *, principal: Principal, goal_id: uuid.UUID) -> Goal:
    return await GoalRepository(session).get_or_raise(principal.tenant_id, goal_id)


async def list_goals(
    session: AsyncSession,
    *,
    principal: Principal,
    subject: str | None,
    cursor: str | None,
    limit: int,
    known: Spellings,
) -> tuple[list[Goal], str | None]:
    """`subject` matches as spelled in `known` or the bank, or as given (ignoring case)."""
    repo = GoalRepository(session)
    query = repo.owned(principal.tenant_id)
    if subject is not None:
        spelled, _ = await canonical_names(session, principal.tenant_id, subject, None, known)
        query = query.where(Goal.subject.in_({subject, spelled}))
    return await repo.page(query, cursor=cursor, limit=limit)


async def update_goal(
    session: AsyncSession, *, principal: Principal, goal_id: uuid.UUID, body: GoalUpdate
) -> Goal:
    principal.require_server()
    goal = await get_goal(session, principal=principal, goal_id=goal_id)
    if body.name is not None:
        goal.name = body.name
    if body.skills is not None:
        goal.skills = list(dict.fromkeys(body.skills))
    if "description" in body.model_fields_set:
        goal.description = body.description
    await session.flush()
    return goal


async def skills_for_goal_tags(
    session: AsyncSession, *, tenant_id: uuid.UUID, subject: str, goal_tags: Sequence[uuid.UUID]
) -> list[str]:
    """The skills the tagged goals cover, in tag order; every tag must be a goal of this subject."""
    if not goal_tags:
        return []
    query = GoalRepository(session).owned(tenant_id).where(Goal.id.in_(goal_tags))
    found = {g.id: g for g in (await session.execute(query)).scalars()}
    missing = [str(t) for t in goal_tags if t not in found]
    if missing:
        raise UnknownGoal(goal_tags=missing)
    other_subject = [str(t) for t in goal_tags if found[t].subject.lower() != subject.lower()]
    if other_subject:
        raise UnknownGoal(
            f"Goal tags must be goals of the subject {subject!r}.", goal_tags=other_subject
        )
    return list(dict.fromkeys(skill for tag in goal_tags for skill in found[tag].skills))
