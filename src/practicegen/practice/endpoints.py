"""HTTP edge for practice: the guide's sync assign, reading assignments, answering items."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.api.deps import BriefPrincipalDep, NowDep, PrincipalDep, SessionDep
from practicegen.api.envelope import Envelope, ok
from practicegen.auth.principal import Principal
from practicegen.config import Settings
from practicegen.db.engine import SessionMaker
from practicegen.errors import StudentWebhookRefused
from practicegen.items.candidates import CandidateCache
from practicegen.jobs import service as jobs_service
from practicegen.jobs.pg_create import PostgresJobWriter
from practicegen.jobs.queue import JobQueue
from practicegen.jobs.schemas import PRACTICE_GENERATION, AsyncAssignRequest, JobAccepted
from practicegen.jobs.service import NewJob
from practicegen.practice import service
from practicegen.practice.assignments import GapFiller, check_request_content
from practicegen.practice.availability import GenerationUnavailable
from practicegen.practice.grading_lane import GradingLane
from practicegen.practice.learner import LearnerParams
from practicegen.practice.schemas import AssignmentRead, AssignRequest, ResponseCreate, ResponseRead
from practicegen.practice.tasks import job_request
from practicegen.webhooks.ssrf import AddressGuard

router = APIRouter(prefix="/api/v1", tags=["practice"])


async def get_grading_lane(request: Request) -> GradingLane:
    lane: GradingLane = request.app.state.grading_lane
    return lane


@dataclass(frozen=True, slots=True)
class Node:
    """The node's parts the assign endpoints use, as one dependency.

    One dependency rather than one per part: FastAPI resolves each dependency of each request
    on its own, and on the async endpoint that was a large share of the CPU per request.
    `filler` is the sync path's (instant generators only); `job_filler` is a job's (the
    language model when one is configured); `writer` creates jobs in one statement on
    PostgreSQL (`jobs/pg_create.py`).
    """

    settings: Settings
    sessionmaker: SessionMaker
    reading: SessionMaker  # for sessions that only read (`autocommit_sessionmaker`)
    filler: GapFiller | None
    job_filler: GapFiller | None
    cache: CandidateCache
    queue: JobQueue
    writer: PostgresJobWriter | None
    guard: AddressGuard


async def get_node(request: Request) -> Node:
    """The node's parts, gathered once at start-up (`app.py`)."""
    node: Node = request.app.state.practice_node
    return node


NodeDep = Annotated[Node, Depends(get_node)]


async def _start_job(
    session: AsyncSession,
    *,
    principal: Principal,
    request: AssignRequest,
    webhook_url: str | None,
    idempotency_key: str | None,
    node: Node,
    now: datetime,
) -> JSONResponse:
    created = await jobs_service.create_job(
        session,
        principal=principal,
        new=NewJob(
            job_type=PRACTICE_GENERATION,
            request=job_request(request, principal),
            student_id=request.student_id,
            webhook_url=webhook_url,
            idempotency_key=idempotency_key,
        ),
        queue=node.queue,
        max_attempts=node.settings.job_max_attempts,
        max_in_flight=node.settings.job_max_in_flight,
        now=now,
        writer=node.writer,
    )
    accepted = JobAccepted.of(created.job.id, created.job.status)
    headers = {"Location": accepted.status_url, "Retry-After": "2"}
    if created.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(accepted.model_dump(mode="json"), status_code=202, headers=headers)


def _job_can_write(node: Node, body: AssignRequest) -> bool:
    """A job's filler (a language model) writes what the sync path's generators cannot."""
    return (
        node.job_filler is not None
        and node.job_filler is not node.filler
        and node.job_filler.covers(body.subject, body.topic)
    )


@router.post(
    "/practice/assign",
    response_model=Envelope[AssignmentRead],
    responses={202: {"model": JobAccepted, "description": "Over the time budget: now a job."}},
)
async def assign(
    body: AssignRequest,
    principal: BriefPrincipalDep,
    node: NodeDep,
    now: NowDep,
) -> Envelope[AssignmentRead] | JSONResponse:
    """Assign practice now, from the bank and instant generators (never a language model).

    If the work cannot finish within `PRACTICEGEN_SYNC_BUDGET_S` (20 s, under a CDN's 30 s), or
    only a language model could write what the bank lacks, the answer is the async endpoint's
    202 instead and the assignment is made by a job. Planning reads in one session and the
    assignment is written in another, both opened here (see `assign_async`).
    """
    try:
        async with node.reading() as reading, asyncio.timeout(node.settings.sync_budget_s):
            planned = await service.plan_with_items(
                reading,
                principal=principal,
                request=body,
                settings=node.settings,
                filler=node.filler,
                cache=node.cache,
            )
    except (GenerationUnavailable, TimeoutError) as exc:
        if isinstance(exc, GenerationUnavailable) and not _job_can_write(node, body):
            raise
        async with node.sessionmaker() as session, session.begin():
            if isinstance(exc, GenerationUnavailable):  # may the job's filler write for the tenant
                await check_request_content(
                    session,
                    principal=principal,
                    request=body,
                    settings=node.settings,
                    filler=node.job_filler,
                    cache=node.cache,
                )
            return await _start_job(
                session,
                principal=principal,
                request=body,
                webhook_url=None,
                idempotency_key=None,
                node=node,
                now=now,
            )
    async with node.sessionmaker() as session, session.begin():
        shown = await service.store_and_show(session, principal=principal, planned=planned)
    return ok(shown)


@router.post(
    "/practice/assign/async", status_code=status.HTTP_202_ACCEPTED, response_model=JobAccepted
)
async def assign_async(
    body: AsyncAssignRequest,
    principal: BriefPrincipalDep,
    node: NodeDep,
    now: NowDep,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=200)] = None,
) -> JSONResponse:
    """The guide's async assign: checks the request, then answers 202 with the job at once.

    It opens its session itself rather than through a dependency: on PostgreSQL without an
    Idempotency-Key the session is used only if the node's memory of the bank is stale, and
    FastAPI's machinery for a dependency that yields costs more than the session. For the same
    reason the session begins a transaction only when it first runs a statement.
    """
    request = AssignRequest.model_validate(body.model_dump(exclude={"webhook_url"}))
    if body.webhook_url is not None:
        if principal.is_student:
            raise StudentWebhookRefused()
        await node.guard.check_url(str(body.webhook_url))
    async with node.sessionmaker() as session:  # a transaction only once a statement runs
        await check_request_content(
            session,
            principal=principal,
            request=request,
            settings=node.settings,
            filler=node.job_filler,
            cache=node.cache,
        )
        accepted = await _start_job(
            session,
            principal=principal,
            request=request,
            webhook_url=str(body.webhook_url) if body.webhook_url else None,
            idempotency_key=idempotency_key,
            node=node,
            now=now,
        )
        if session.in_transaction():  # the job written through the session (SQLite)
            await session.commit()
        return accepted


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
    node: NodeDep,
    now: NowDep,
    lane: Annotated[GradingLane, Depends(get_grading_lane)],
) -> Envelope[ResponseRead]:
    """Grade one answer, store it, and update the learner model.

    Sessions are opened by the service, none held while the answer waits for grading.
    """
    result = await service.answer_item(
        node.sessionmaker,
        reading=node.reading,
        principal=principal,
        assignment_id=assignment_id,
        body=body,
        lane=lane,
        params=LearnerParams(),
        now=now,
    )
    return ok(result)
