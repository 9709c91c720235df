"""HTTP edge for practice: the guide's sync assign, reading assignments, answering items."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.api.deps import NowDep, PrincipalDep, SessionDep, SettingsDep, get_sessionmaker
from practicegen.api.envelope import Envelope, ok
from practicegen.auth.principal import Principal
from practicegen.config import Settings
from practicegen.db.engine import SessionMaker
from practicegen.items.candidates import CandidateCache
from practicegen.jobs import service as jobs_service
from practicegen.jobs.endpoints import QueueDep
from practicegen.jobs.pg_create import PostgresJobWriter
from practicegen.jobs.queue import JobQueue
from practicegen.jobs.schemas import PRACTICE_GENERATION, AsyncAssignRequest, JobAccepted
from practicegen.jobs.service import NewJob
from practicegen.practice import service
from practicegen.practice.assignments import (
    GapFiller,
    GenerationUnavailable,
    check_request_content,
)
from practicegen.practice.grader import Grader
from practicegen.practice.learner import LearnerParams
from practicegen.practice.schemas import AssignmentRead, AssignRequest, ResponseCreate, ResponseRead
from practicegen.practice.tasks import job_request
from practicegen.webhooks.ssrf import AddressGuard

router = APIRouter(prefix="/api/v1", tags=["practice"])


async def get_grader(request: Request) -> Grader:
    grader: Grader = request.app.state.grader
    return grader


async def get_candidates(request: Request) -> CandidateCache:
    cache: CandidateCache = request.app.state.candidates
    return cache


async def get_guard(request: Request) -> AddressGuard:
    guard: AddressGuard = request.app.state.ssrf_guard
    return guard


async def get_filler(request: Request) -> GapFiller | None:
    """The sync path's filler: instant generators only."""
    filler: GapFiller | None = request.app.state.gap_filler
    return filler


async def get_job_writer(request: Request) -> PostgresJobWriter | None:
    """On PostgreSQL, the one-statement job creation (`jobs/pg_create.py`)."""
    writer: PostgresJobWriter | None = request.app.state.job_writer
    return writer


JobWriterDep = Annotated[PostgresJobWriter | None, Depends(get_job_writer)]


async def get_job_filler(request: Request) -> GapFiller | None:
    """A job's filler: the language model when one is configured."""
    filler: GapFiller | None = request.app.state.job_filler
    return filler


async def _start_job(
    session: AsyncSession,
    *,
    principal: Principal,
    request: AssignRequest,
    webhook_url: str | None,
    idempotency_key: str | None,
    settings: Settings,
    queue: JobQueue,
    writer: PostgresJobWriter | None,
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
        queue=queue,
        max_attempts=settings.job_max_attempts,
        max_in_flight=settings.job_max_in_flight,
        now=now,
        writer=writer,
    )
    accepted = JobAccepted.of(created.job)
    headers = {"Location": accepted.status_url, "Retry-After": "2"}
    if created.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(accepted.model_dump(mode="json"), status_code=202, headers=headers)


def _job_can_write(
    filler: GapFiller | None, job_filler: GapFiller | None, body: AssignRequest
) -> bool:
    """A job's filler (a language model) writes what the sync path's generators cannot."""
    return (
        job_filler is not None
        and job_filler is not filler
        and job_filler.covers(body.subject, body.topic)
    )


@router.post(
    "/practice/assign",
    response_model=Envelope[AssignmentRead],
    responses={202: {"model": JobAccepted, "description": "Over the time budget: now a job."}},
)
async def assign(
    body: AssignRequest,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    filler: Annotated[GapFiller | None, Depends(get_filler)],
    job_filler: Annotated[GapFiller | None, Depends(get_job_filler)],
    cache: Annotated[CandidateCache, Depends(get_candidates)],
    sessionmaker: Annotated[SessionMaker, Depends(get_sessionmaker)],
    queue: QueueDep,
    writer: JobWriterDep,
    now: NowDep,
) -> Envelope[AssignmentRead] | JSONResponse:
    """Assign practice now, from the bank and instant generators (never a language model).

    If the work cannot finish within `PRACTICEGEN_SYNC_BUDGET_S` (20 s, under a CDN's 30 s), or
    only a language model could write what the bank lacks, the answer is the async endpoint's
    202 instead and the assignment is made by a job.
    """
    try:
        async with sessionmaker() as reading, asyncio.timeout(settings.sync_budget_s):
            planned = await service.plan_with_items(
                reading,
                principal=principal,
                request=body,
                settings=settings,
                filler=filler,
                cache=cache,
            )
    except (GenerationUnavailable, TimeoutError) as exc:
        if isinstance(exc, GenerationUnavailable) and not _job_can_write(filler, job_filler, body):
            raise
        return await _start_job(
            session,
            principal=principal,
            request=body,
            webhook_url=None,
            idempotency_key=None,
            settings=settings,
            queue=queue,
            writer=writer,
            now=now,
        )
    return ok(await service.store_and_show(session, principal=principal, planned=planned))


@router.post(
    "/practice/assign/async", status_code=status.HTTP_202_ACCEPTED, response_model=JobAccepted
)
async def assign_async(
    body: AsyncAssignRequest,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    filler: Annotated[GapFiller | None, Depends(get_job_filler)],
    cache: Annotated[CandidateCache, Depends(get_candidates)],
    queue: QueueDep,
    writer: JobWriterDep,
    now: NowDep,
    guard: Annotated[AddressGuard, Depends(get_guard)],
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=200)] = None,
) -> JSONResponse:
    """The guide's async assign: checks the request, then answers 202 with the job at once."""
    request = AssignRequest.model_validate(body.model_dump(exclude={"webhook_url"}))
    if body.webhook_url is not None:
        await guard.check_url(str(body.webhook_url))
    await check_request_content(
        session,
        principal=principal,
        request=request,
        settings=settings,
        filler=filler,
        cache=cache,
    )
    return await _start_job(
        session,
        principal=principal,
        request=request,
        webhook_url=str(body.webhook_url) if body.webhook_url else None,
        idempotency_key=idempotency_key,
        settings=settings,
        queue=queue,
        writer=writer,
        now=now,
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
