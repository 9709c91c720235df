"""Procedural stand-ins never leave an assignment short because they collided with the bank.

The filler draws its seeds from an RNG the test seeds, so the test knows which items the
filler's first seeds make and puts exactly those in the bank first: every first attempt
collides, and the filler must build again with new seeds. Both backends.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from functools import partial

import pytest
from sqlalchemy import update

from practicegen.auth.principal import DEFAULT_TENANT_ID, Principal, Role
from practicegen.catalog.generators import GENERATOR_SKILLS
from practicegen.config import Settings
from practicegen.db.engine import SessionMaker
from practicegen.db.models import Item, Student
from practicegen.generation.filler import ProceduralFiller
from practicegen.generation.procedural.registry import generate
from practicegen.items.bank_format import bank_document
from practicegen.items.candidates import CandidateCache
from practicegen.items.fingerprint import fingerprint
from practicegen.items.service import import_bank
from practicegen.ports import GapRequest, no_progress
from practicegen.practice.assignments import plan_assignment
from practicegen.practice.checks import Assigning
from practicegen.practice.learner import expected_p_correct
from practicegen.practice.schemas import AssignRequest

RNG_SEED = 20261206
SKILLS = ("exponents.rules", "exponents.evaluate")  # the topic Exponents: small question spaces


def first_seeds(count: int) -> list[int]:
    """The seeds a filler built with `random.Random(RNG_SEED)` draws first, in order."""
    rng = random.Random(RNG_SEED)
    return [rng.randrange(2**31) for _ in range(count)]


def filler(settings: Settings) -> ProceduralFiller:
    return ProceduralFiller(
        workers=1, timeout_s=settings.generator_timeout_s, rng=random.Random(RNG_SEED)
    )


@pytest.fixture
async def stand_ins(settings: Settings) -> AsyncIterator[ProceduralFiller]:
    made = filler(settings)
    try:
        yield made
    finally:
        await made.aclose()


async def seed_bank(sessionmaker: SessionMaker, seeds: list[int], *, retired: bool) -> set[str]:
    """Every item the generators make from `seeds` for the Exponents skills, at every level."""
    specs = [s for s in GENERATOR_SKILLS if s.skill in SKILLS]
    items = [
        generate(spec.skill, level, seed)
        for spec in specs
        for level in range(1, spec.levels + 1)
        for seed in seeds
    ]
    async with sessionmaker() as session, session.begin():
        document = bank_document(items)
        report = await import_bank(session, tenant_id=DEFAULT_TENANT_ID, document=document)
        assert report.imported > 0 and report.rejected == []
        if retired:  # kept for their fingerprints, never selected
            await session.execute(update(Item).values(status="retired"))
    return {fingerprint(item) for item in items}


def gap(count: int, skills: list[str]) -> GapRequest:
    return GapRequest(
        tenant_id=DEFAULT_TENANT_ID,
        subject="Algebra",
        topic="Exponents",
        skills=skills,
        count=count,
        difficulty=-1.0,
        predict=partial(expected_p_correct, 0.0, variance=1.0),
        target_p=0.75,
        avoid_fingerprints=frozenset(),
    )


async def test_a_stand_in_the_bank_holds_is_made_again(
    sessionmaker: SessionMaker, stand_ins: ProceduralFiller
) -> None:
    in_bank = await seed_bank(sessionmaker, first_seeds(3), retired=False)
    async with sessionmaker() as session:
        filled = await stand_ins.fill(session, gap(3, ["exponents.rules"]), no_progress)
    assert filled.unproduced == {} and filled.report["unproduced"] == {}
    assert filled.report["procedural"] == {"requested": 3, "generated": 3}
    made = [row.fingerprint for row, _ in filled.items]
    assert len(made) == len(set(made)) == 3
    assert not set(made) & in_bank


async def test_the_assignment_is_full_though_the_first_stand_ins_collide(
    sessionmaker: SessionMaker, settings: Settings, stand_ins: ProceduralFiller
) -> None:
    await seed_bank(sessionmaker, first_seeds(20), retired=True)
    async with sessionmaker() as session, session.begin():
        student = Student(tenant_id=DEFAULT_TENANT_ID, display_name="Ada")
        session.add(student)
        await session.flush()
        student_id: uuid.UUID = student.id
    request = AssignRequest(
        student_id=student_id, subject="Algebra", topic="Exponents", num_items=20
    )
    async with sessionmaker() as session:
        principal = Principal(tenant_id=DEFAULT_TENANT_ID, role=Role.SERVER)
        ask = Assigning(principal, request, settings, CandidateCache(max_age_s=0), stand_ins)
        plan = await plan_assignment(session, ask)
    assert len(plan.chosen) == len(plan.new_items) == 20, plan.warnings
    assert not any("Could not generate" in w for w in plan.warnings), plan.warnings


async def test_a_skill_the_bank_has_exhausted_is_named_as_the_shortfall(
    sessionmaker: SessionMaker, settings: Settings, stand_ins: ProceduralFiller
) -> None:
    # Every question the area.circle generator can make (1000 seeds reach them all), retired.
    every = {
        fingerprint(item): item
        for level in (1, 2, 3)
        for item in (generate("area.circle", level, seed) for seed in range(1000))
    }
    async with sessionmaker() as session, session.begin():
        document = bank_document(list(every.values()))
        await import_bank(session, tenant_id=DEFAULT_TENANT_ID, document=document)
        await session.execute(update(Item).values(status="retired"))
        student = Student(tenant_id=DEFAULT_TENANT_ID, display_name="Ada")
        session.add(student)
        await session.flush()
        student_id: uuid.UUID = student.id
    request = AssignRequest(student_id=student_id, subject="Geometry", topic="Area", num_items=6)
    async with sessionmaker() as session:
        principal = Principal(tenant_id=DEFAULT_TENANT_ID, role=Role.SERVER)
        ask = Assigning(principal, request, settings, CandidateCache(max_age_s=0), stand_ins)
        plan = await plan_assignment(session, ask)
    assert sorted(c.skill for c in plan.chosen) == ["area.rectangle"] * 2 + ["area.triangle"] * 2
    assert plan.generation["unproduced"] == {"area.circle": 2}
    assert "Could not generate 2 item(s) for area.circle." in plan.warnings
    assert "Only 4 of 6 items could be assigned" in " ".join(plan.warnings)
