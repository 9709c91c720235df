"""HTTP edge for practice: the guide's sync assign, reading assignments, answering items."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from practicegen.api.deps import NowDep, PrincipalDep, SessionDep, SettingsDep
from practicegen.api.envelope import Envelope, ok
from practicegen.items.candidates import CandidateCache
from practicegen.practice import service
from practicegen.practice.assignments import GapFiller, build_assignment
from practicegen.practice.grader import Grader
from practicegen.practice.learner import LearnerParams
from practicegen.practice.schemas import AssignmentRead, AssignRequest, ResponseCreate, ResponseRead

router = APIRouter(prefix="/api/v1", tags=["practice"])


def get_grader(request: Request) -> Grader:
    grader: Grader = request.app.state.grader
    return grader


def get_candidates(request: Request) -> CandidateCache:
    cache: CandidateCache = request.app.state.candidates
    return cache


def get_filler(request: Request) -> GapFiller | None:
    filler: GapFiller | None = request.app.state.gap_filler
    return filler


@router.post("/practice/assign")
async def assign(
    body: AssignRequest,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    filler: Annotated[GapFiller | None, Depends(get_filler)],
    cache: Annotated[CandidateCache, Depends(get_candidates)],
) -> Envelope[AssignmentRead]:
    """Assign practice now, from the bank and instant generators (never a language model)."""
    built = await build_assignment(
        session, principal=principal, request=body, settings=settings, filler=filler, cache=cache
    )
    return ok(
        await service.read_assignment(session, principal=principal, assignment=built.assignment)
    )


@router.get("/assignments/{assignment_id}")
async def get_assignment(
    assignment_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Envelope[AssignmentRead]:
    return ok(
        await service.get_assignment(session, principal=principal, assignment_id=assignment_id)
    )


@router.post("/assignments/{assignment_id}/responses", status_code=status.HTTP_201_CREATED)
async def answer(
    assignment_id: uuid.UUID,
    body: ResponseCreate,
    session: SessionDep,
    principal: PrincipalDep,
    now: NowDep,
    grader: Annotated[Grader, Depends(get_grader)],
) -> Envelope[ResponseRead]:
    """Grade one answer, store it, and update the learner model."""
    result = await service.answer_item(
        session,
        principal=principal,
        assignment_id=assignment_id,
        body=body,
        grader=grader,
        params=LearnerParams(),
        now=now,
    )
    return ok(result)
