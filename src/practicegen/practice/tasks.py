"""The `practice_generation` job type: plans outside any write transaction, then hands the runner
a writer that stores the plan as the job completes. The result is the assignment as the sync
endpoint shows it, plus `metadata.generation`; a student token sees it as `for_student` shows it.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.auth.principal import Principal, Role
from practicegen.clock import Clock
from practicegen.config import Settings
from practicegen.db.engine import SessionMaker, autocommit_sessionmaker
from practicegen.db.models import Job
from practicegen.items.candidates import CandidateCache
from practicegen.jobs.registry import JobType, Progress, Writer
from practicegen.jobs.service import RefusalCheck
from practicegen.ports import GapFiller
from practicegen.practice.assignments import plan_assignment
from practicegen.practice.checks import Assigning
from practicegen.practice.schemas import AssignRequest
from practicegen.practice.service import store_and_show
from practicegen.students.repository import StudentRepository

PRACTICE_GENERATION = "practice_generation"
EVENTS = {end: f"practice.assignment.{end}" for end in ("completed", "failed", "cancelled")}


def job_request(body: AssignRequest, principal: Principal) -> dict[str, Any]:
    view = "student" if principal.is_student else "server"
    return {"assign": body.model_dump(mode="json"), "view": view}


def student_check(tenant_id: uuid.UUID, student_id: uuid.UUID) -> RefusalCheck:
    """Why a job was refused, if it was the student: not the tenant's (`StudentNotFound`)."""

    async def check(session: AsyncSession) -> None:
        await StudentRepository(session).get_or_raise(tenant_id, student_id)

    return check


def for_student(result: dict[str, Any]) -> dict[str, Any]:
    """The stored result less the answer keys (a new dict; the stored one is left alone)."""
    shown = {key: value for key, value in result.items() if key != "metadata"}
    shown["items"] = [
        {
            **item,
            "answer": None,
            "solution": item.get("solution") if item.get("response") is not None else None,
            "choices": [{**choice, "misconception": None} for choice in item.get("choices", [])],
        }
        for item in result.get("items", [])
    ]
    return shown


def practice_job_type(
    settings: Settings,
    sessionmaker: SessionMaker,
    filler: GapFiller | None,
    cache: CandidateCache,
    clock: Clock,
) -> JobType:
    """The job type as the job system runs, shows and reports it; `clock` dates what it stores."""
    reading = autocommit_sessionmaker(sessionmaker)

    async def handle(job: Job, progress: Progress) -> Writer:
        request = AssignRequest.model_validate(job.request["assign"])
        as_student = job.request.get("view") == "student"
        principal = Principal(
            tenant_id=job.tenant_id,
            role=Role.STUDENT if as_student else Role.SERVER,
            student_id=request.student_id if as_student else None,
        )
        ask = Assigning(principal, request, settings, cache, filler, clock())
        async with reading() as session:
            plan = await plan_assignment(session, ask, progress)
        await progress(90, "Saving the assignment...")

        async def write(session: AsyncSession) -> dict[str, Any]:
            view = await store_and_show(session, principal=principal, plan=plan, now=clock())
            result = view.model_dump(mode="json")
            if plan.generation:
                result["metadata"] = {"generation": plan.generation}
            return result

        return write

    return JobType(
        name=PRACTICE_GENERATION, handler=handle, student_view=for_student, events=EVENTS
    )
