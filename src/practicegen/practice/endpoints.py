"""HTTP edge for practice: the sync and async assign, reading assignments, answering."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, status
from fastapi.responses import Response

from practicegen.api.deps import ContainerDep, NowDep, SessionDep
from practicegen.api.envelope import Envelope, ok
from practicegen.auth.deps import BriefPrincipalDep, PrincipalDep
from practicegen.items.names import Spellings
from practicegen.jobs.schemas import JobAccepted
from practicegen.practice import assign_service, service
from practicegen.practice.grading_lane import GradingLane
from practicegen.practice.parts import PracticeParts
from practicegen.practice.schemas import (
    AssignmentRead,
    AssignRequest,
    AsyncAssignRequest,
    ResponseCreate,
    ResponseRead,
)

router = APIRouter(prefix="/api/v1", tags=["practice"])


def _accepted(accepted: JobAccepted, *, replayed: bool = False) -> Response:
    """The 202 of a job: `Location` its status URL, `Retry-After` the first poll. Serialised
    by pydantic straight to JSON, the bytes `JSONResponse` of its `model_dump` would send."""
    headers = {"Location": accepted.status_url, "Retry-After": "2"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    body = accepted.model_dump_json()
    return Response(body, status_code=202, headers=headers, media_type="application/json")


@router.post(
    "/practice/assign",
    response_model=Envelope[AssignmentRead],
    responses={202: {"model": JobAccepted, "description": "Over the time budget: now a job."}},
)
async def assign(
    body: AssignRequest, principal: BriefPrincipalDep, container: ContainerDep, now: NowDep
) -> Envelope[AssignmentRead] | Response:
    """Assign practice now, from the bank and instant generators (never a language model). Past
    `PRACTICEGEN_SYNC_BUDGET_S`, or when only a language model could write what the bank lacks,
    the answer is the async endpoint's 202 instead and a job makes the assignment."""
    made = await assign_service.assign_now(
        container.part(PracticeParts),
        sessionmaker=container.sessionmaker,
        reading=container.reading_sessionmaker,
        settings=container.settings,
        principal=principal,
        request=body,
        now=now,
        known=container.part(Spellings),
    )
    return _accepted(made) if isinstance(made, JobAccepted) else ok(made)


@router.post(
    "/practice/assign/async", status_code=status.HTTP_202_ACCEPTED, response_model=JobAccepted
)
async def assign_async(
    body: AsyncAssignRequest,
    principal: BriefPrincipalDep,
    container: ContainerDep,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=200)] = None,
) -> Response:
    """The guide's async assign: checks the request, then answers 202 with the job at once."""
    started = await assign_service.start_assignment_job(
        container.part(PracticeParts),
        sessionmaker=container.reading_sessionmaker,
        settings=container.settings,
        principal=principal,
        request=AssignRequest.model_validate(body.model_dump(exclude={"webhook_url"})),
        now=container.clock(),  # `NowDep`'s value, without solving one more dependency
        known=container.part(Spellings),
        webhook_url=None if body.webhook_url is None else str(body.webhook_url),
        idempotency_key=idempotency_key,
    )
    return _accepted(started.accepted, replayed=started.replayed)


@router.get("/assignments/{assignment_id}")
async def get_assignment(
    assignment_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Envelope[AssignmentRead]:
    return ok(
        await service.get_assignment(session, principal=principal, assignment_id=assignment_id)
    )


@router.post(
    "/assignments/{assignment_id}/responses",
    status_code=status.HTTP_201_CREATED,
    responses={
        429: {"description": "too_many_requests: the student's or tenant's share of grading."},
        503: {"description": "service_busy: every grading place of the node is taken."},
    },
)
async def answer(
    assignment_id: uuid.UUID,
    body: ResponseCreate,
    principal: BriefPrincipalDep,
    container: ContainerDep,
    now: NowDep,
) -> Envelope[ResponseRead]:
    """Grade one answer, store it, and update the learner model."""
    result = await service.answer_item(
        container.sessionmaker,
        reading=container.reading_sessionmaker,
        principal=principal,
        assignment_id=assignment_id,
        body=body,
        lane=container.part(GradingLane),
        now=now,
    )
    return ok(result)
