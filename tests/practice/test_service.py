"""The sync assign's answer, built from its plan, is exactly what reading the assignment shows."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from practicegen.auth.principal import DEFAULT_TENANT_ID, Principal, Role
from practicegen.clock import utcnow
from practicegen.config import Settings
from practicegen.db.engine import SessionMaker
from practicegen.db.models import Student
from practicegen.generation.filler import ProceduralFiller
from practicegen.generation.setup import create_filler
from practicegen.items.candidates import CandidateCache
from practicegen.items.service import import_bank
from practicegen.practice import service
from practicegen.practice.assignments import plan_assignment
from practicegen.practice.checks import Assigning
from practicegen.practice.schemas import AssignmentRead, AssignRequest
from tests.api.factories import choice_item_body, item_body


@pytest.fixture
async def filler(settings: Settings) -> AsyncIterator[ProceduralFiller]:
    made = create_filler(settings)
    try:
        yield made
    finally:
        await made.aclose()


async def _seed(sessionmaker: SessionMaker) -> uuid.UUID:
    """Two linear-equation items (too few for five, so generators fill) and a choice item."""
    rows = [
        item_body(stem=f"Solve ${k + 2}x = {(k + 2) * 3}$.", answer="x = 3", difficulty=0.3 * k)
        for k in range(2)
    ]
    rows.append(choice_item_body(subject="Algebra", topic="Linear Equations"))
    async with sessionmaker() as session, session.begin():
        document = {"format": "practicegen-bank", "version": 1, "items": rows}
        await import_bank(session, tenant_id=DEFAULT_TENANT_ID, document=document)
        student = Student(tenant_id=DEFAULT_TENANT_ID, display_name="Ada")
        session.add(student)
        await session.flush()
        return student.id


async def _assign_and_read_back(
    sessionmaker: SessionMaker,
    settings: Settings,
    filler: ProceduralFiller,
    principal: Principal,
    request: AssignRequest,
) -> tuple[AssignmentRead, AssignmentRead]:
    async with sessionmaker() as reading:
        ask = Assigning(principal, request, settings, CandidateCache(max_age_s=0), filler)
        plan = await plan_assignment(reading, ask)
    async with sessionmaker() as session, session.begin():
        shown = await service.store_and_show(session, principal=principal, plan=plan, now=utcnow())
    async with sessionmaker() as session:
        stored = await service.get_assignment(
            session, principal=principal, assignment_id=shown.assignment_id
        )
    return shown, stored


@pytest.mark.parametrize("role", [Role.SERVER, Role.STUDENT])
async def test_the_answer_is_the_stored_assignment_as_read_back(
    sessionmaker: SessionMaker, settings: Settings, filler: ProceduralFiller, role: Role
) -> None:
    student_id = await _seed(sessionmaker)
    principal = Principal(
        tenant_id=DEFAULT_TENANT_ID,
        role=role,
        student_id=student_id if role is Role.STUDENT else None,
    )
    request = AssignRequest(
        student_id=student_id, subject="Algebra", topic="Linear Equations", num_items=5
    )
    shown, stored = await _assign_and_read_back(sessionmaker, settings, filler, principal, request)
    assert shown.generated_count > 0 and shown.bank_count == 3
    assert any(item.choices for item in shown.items)
    assert shown == stored
    # Now every bank item is recent practice: the answer repeats some and says so.
    again, stored_again = await _assign_and_read_back(
        sessionmaker, settings, filler, principal, request
    )
    assert again.warnings and again == stored_again
