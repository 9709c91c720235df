"""Assigning practice now when it fits the sync budget, else by a job (never waiting on a model);
and starting that job.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.auth.principal import Principal
from practicegen.config import Settings
from practicegen.db.engine import SessionMaker
from practicegen.errors import StudentWebhookRefused
from practicegen.items.names import Spellings, canonical_names
from practicegen.items.repository import ItemRepository
from practicegen.jobs import service as jobs_service
from practicegen.jobs.schemas import JobAccepted
from practicegen.jobs.service import Created, NewJob, scoped_key
from practicegen.practice.assignments import plan_assignment
from practicegen.practice.checks import Assigning, GenerationUnavailable, check_request_content
from practicegen.practice.parts import PracticeParts
from practicegen.practice.schemas import AssignmentRead, AssignRequest
from practicegen.practice.service import store_and_show
from practicegen.practice.tasks import PRACTICE_GENERATION, job_request, student_check


@dataclass(frozen=True, slots=True)
class StartedJob:
    """The async route's answer; `replayed` when an Idempotency-Key named an earlier job."""

    accepted: JobAccepted
    replayed: bool = False


async def assign_now(
    parts: PracticeParts,
    *,
    sessionmaker: SessionMaker,
    reading: SessionMaker,
    settings: Settings,
    principal: Principal,
    request: AssignRequest,
    now: datetime,
    known: Spellings,
) -> AssignmentRead | JobAccepted:
    """The assignment, stored; or, over the budget or past `parts.filler`, the job making it."""
    try:
        async with reading() as session:
            # checked out before the budget: one cut off mid-checkout is never given back
            await session.connection()
            async with asyncio.timeout(settings.sync_budget_s):
                request = await canonical_request(session, principal, request, known)
                ask = Assigning(principal, request, settings, parts.cache, parts.filler, now)
                plan = await plan_assignment(session, ask)
    except (GenerationUnavailable, TimeoutError) as exc:
        unavailable = isinstance(exc, GenerationUnavailable)
        writer = parts.job_filler  # a language model may write what instant generators cannot
        job_can_write = (
            writer is not None
            and writer is not parts.filler
            and writer.covers(request.subject, request.topic)
        )
        if unavailable and not job_can_write:
            raise
        started = await start_assignment_job(
            parts,
            sessionmaker=reading,
            settings=settings,
            principal=principal,
            request=request,
            now=now,
            known=known,
            check=unavailable,  # a timeout checked the request already, or ran out doing so
        )
        return started.accepted
    # with nothing generated it is one INSERT on PostgreSQL: autocommit spares BEGIN and COMMIT
    writing = reading if not plan.new_items else sessionmaker
    async with writing() as session, session.begin():
        return await store_and_show(session, principal=principal, plan=plan, now=now)


async def start_assignment_job(
    parts: PracticeParts,
    *,
    sessionmaker: SessionMaker,
    settings: Settings,
    principal: Principal,
    request: AssignRequest,
    now: datetime,
    known: Spellings,
    webhook_url: str | None = None,
    idempotency_key: str | None = None,
    check: bool = True,
) -> StartedJob:
    """Vet the webhook and (if `check`) the request, then create the job (in one statement)."""
    if webhook_url is not None:  # a server key's, at an address the SSRF guard allows
        if principal.is_student:
            raise StudentWebhookRefused()
        await parts.guard.check_url(webhook_url)
    async with sessionmaker() as session:
        request = await canonical_request(session, principal, request, known)
        ask = Assigning(principal, request, settings, parts.cache, parts.job_filler, now)
        created = await _create_job(session, parts, ask, webhook_url, idempotency_key, check)
        if session.in_transaction():  # begun only if a statement ran (SQLite)
            await session.commit()
    return StartedJob(JobAccepted.of(created.job.id, created.job.status), created.replayed)


async def canonical_request(
    session: AsyncSession, principal: Principal, request: AssignRequest, known: Spellings
) -> AssignRequest:
    """`request` spelled as known, so a replay spelled otherwise names the same job."""
    subject, topic = await canonical_names(
        session, principal.tenant_id, request.subject, request.topic, known
    )
    if (subject, topic) == (request.subject, request.topic):
        return request
    return request.model_copy(update={"subject": subject, "topic": topic})


class _BankMoved(Exception):
    """A refused job's request was checked against items of a bank version no longer current."""


async def _create_job(
    session: AsyncSession,
    parts: PracticeParts,
    ask: Assigning,
    webhook_url: str | None,
    idempotency_key: str | None,
    check: bool,
) -> Created:
    principal, request, settings = ask.principal, ask.request, ask.settings
    new = NewJob(
        tenant_id=principal.tenant_id,
        job_type=PRACTICE_GENERATION,
        request=job_request(request, principal),
        max_attempts=settings.job_max_attempts,
        in_flight_limit=settings.job_max_in_flight,
        student_id=request.student_id,
        webhook_url=webhook_url,
        idempotency_key=None if idempotency_key is None else scoped_key(principal, idempotency_key),
    )
    student = student_check(principal.tenant_id, request.student_id)
    create = partial(
        jobs_service.create_job, session, store=parts.store, now=ask.now, explain_refusal=student
    )
    if not check:
        return await create(new=new)
    # checked against the kept items unread, the INSERT itself finds their bank version current
    if (version := await check_request_content(session, ask, version_unread=True)) is None:
        return await create(new=new)

    async def explain(session: AsyncSession) -> None:
        await student(session)
        if await ItemRepository(session).bank_version(principal.tenant_id) != version:
            raise _BankMoved

    try:
        return await create(new=replace(new, bank_version=version), explain_refusal=explain)
    except _BankMoved:  # checked against the bank as read, once more
        await check_request_content(session, ask)
        return await create(new=new)
