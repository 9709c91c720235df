"""HTTP edge for batches: assign a class or a list of students at once, and read the batch."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, status
from fastapi.responses import JSONResponse

from practicegen.api.deps import ContainerDep, NowDep, SessionDep
from practicegen.api.envelope import Envelope, ok
from practicegen.auth.deps import PrincipalDep
from practicegen.batches import service
from practicegen.batches.schemas import BatchAccepted, BatchCreate, BatchRead, ClassAssignRequest
from practicegen.batches.tasks import child_id, children, students_of
from practicegen.classes.schemas import StudentNames
from practicegen.items.names import Spellings
from practicegen.jobs.parts import JobParts
from practicegen.practice.parts import PracticeParts

router = APIRouter(prefix="/api/v1", tags=["batches"])
IdempotencyKey = Annotated[str | None, Header(min_length=1, max_length=200)]


async def _start(
    container: ContainerDep,
    principal: PrincipalDep,
    now: NowDep,
    idempotency_key: str | None,
    ask: ClassAssignRequest,
    class_id: uuid.UUID | None = None,
    named: StudentNames | None = None,
) -> JSONResponse:
    """Start the batch of the class's students or those `named`; 202 with its jobs."""
    created = await service.start_batch(
        container.part(PracticeParts),
        sessionmaker=container.sessionmaker,
        settings=container.settings,
        principal=principal,
        ask=ask,
        now=now,
        known=container.part(Spellings),
        idempotency_key=idempotency_key,
        class_id=class_id,
        named=named,
    )
    batch = created.job
    if created.replayed:  # the earlier batch's jobs as they stand now
        async with container.sessionmaker() as session:
            rows = await children(session, batch)
    else:  # just made, every one of them pending
        rows = [(child_id(batch.id, s), s, "pending", 0) for s in students_of(batch)]
    body = BatchAccepted(
        batch_id=batch.id,
        status=batch.status,
        status_url=f"/api/v1/batches/{batch.id}",
        websocket_url=f"/api/v1/batches/{batch.id}/ws",
        events_url=f"/api/v1/batches/{batch.id}/events",
        jobs=service.jobs_of(rows),
    )
    replayed = {"Idempotent-Replayed": "true"} if created.replayed else {}
    headers = {"Location": body.status_url, **replayed}
    return JSONResponse(body.model_dump(mode="json"), status.HTTP_202_ACCEPTED, headers=headers)


@router.post(
    "/classes/{class_id}/assign/async",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=BatchAccepted,
)
async def assign_class(
    class_id: uuid.UUID,
    body: ClassAssignRequest,
    principal: PrincipalDep,
    container: ContainerDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """One practice job per student of the class, followed as one batch."""
    return await _start(container, principal, now, idempotency_key, body, class_id=class_id)


@router.post("/batches", status_code=status.HTTP_202_ACCEPTED, response_model=BatchAccepted)
async def assign_students(
    body: BatchCreate,
    principal: PrincipalDep,
    container: ContainerDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """One practice job per student named, followed as one batch."""
    names = StudentNames(student_ids=body.student_ids, external_ids=body.external_ids)
    ask = ClassAssignRequest.model_validate(body.model_dump(exclude=set(StudentNames.model_fields)))
    return await _start(container, principal, now, idempotency_key, ask, named=names)


@router.get("/batches/{batch_id}")
async def get_batch(
    batch_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    container: ContainerDep,
    now: NowDep,
) -> Envelope[BatchRead]:
    """The batch: its status, its students' jobs, their counts by status, overall progress."""
    views = container.part(JobParts).types
    batch = await service.find_batch(
        session, principal=principal, batch_id=batch_id, now=now, views=views
    )
    return ok(await service.show_batch(session, batch))
