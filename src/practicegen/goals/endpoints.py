"""HTTP edge for goals: /api/v1/goals."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from practicegen.api.deps import CursorDep, LimitDep, SessionDep
from practicegen.api.envelope import Envelope, Page, ok
from practicegen.auth.deps import PrincipalDep
from practicegen.goals import service
from practicegen.goals.schemas import GoalCreate, GoalRead, GoalUpdate
from practicegen.items.deps import GeneratorSpellingsDep

router = APIRouter(prefix="/api/v1/goals", tags=["goals"])
_read = GoalRead.model_validate  # from a `Goal` row


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_goal(
    body: GoalCreate, session: SessionDep, principal: PrincipalDep, known: GeneratorSpellingsDep
) -> Envelope[GoalRead]:
    """The subject is stored as already spelled, ignoring case (`algebra` is `Algebra`)."""
    goal = await service.create_goal(session, principal=principal, body=body, known=known)
    return ok(_read(goal))


@router.get("")
async def list_goals(
    session: SessionDep,
    principal: PrincipalDep,
    limit: LimitDep,
    known: GeneratorSpellingsDep,
    cursor: CursorDep = None,
    subject: Annotated[str | None, Query(max_length=100)] = None,
) -> Envelope[Page[GoalRead]]:
    """`subject` matches ignoring case."""
    rows, next_cursor = await service.list_goals(
        session, principal=principal, subject=subject, cursor=cursor, limit=limit, known=known
    )
    return ok(Page(items=[_read(r) for r in rows], next_cursor=next_cursor))


@router.get("/{goal_id}")
async def get_goal(
    goal_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Envelope[GoalRead]:
    return ok(_read(await service.get_goal(session, principal=principal, goal_id=goal_id)))


@router.patch("/{goal_id}")
async def update_goal(
    goal_id: uuid.UUID, body: GoalUpdate, session: SessionDep, principal: PrincipalDep
) -> Envelope[GoalRead]:
    goal = await service.update_goal(session, principal=principal, goal_id=goal_id, body=body)
    return ok(_read(goal))
