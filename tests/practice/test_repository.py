"""The one-round-trip reads and the two-statement write of the sync assign, on both backends."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from practicegen.auth.principal import DEFAULT_TENANT_ID
from practicegen.db.engine import SessionMaker, autocommit_sessionmaker
from practicegen.db.models import Assignment, Item, LearnerSkill, Student, Tenant
from practicegen.items.schemas import ItemContent
from practicegen.items.service import import_bank, to_row
from practicegen.practice.learner import SkillState
from practicegen.practice.repository import ItemLink, PracticeRepository
from tests.api.factories import item_body


async def _bank(sessionmaker: SessionMaker, count: int) -> list[uuid.UUID]:
    rows = [item_body(stem=f"Solve $x + {k} = {k + 1}$.", answer="x = 1") for k in range(count)]
    async with sessionmaker() as session, session.begin():
        document = {"format": "practicegen-bank", "version": 1, "items": rows}
        await import_bank(session, tenant_id=DEFAULT_TENANT_ID, document=document)
        return list((await session.execute(select(Item.id))).scalars())


async def _student(sessionmaker: SessionMaker, *skills: tuple[str, float, int]) -> uuid.UUID:
    async with sessionmaker() as session, session.begin():
        student = Student(tenant_id=DEFAULT_TENANT_ID, display_name="Ada")
        session.add(student)
        await session.flush()
        for skill, theta, n in skills:
            session.add(
                LearnerSkill(
                    student_id=student.id,
                    skill=skill,
                    tenant_id=DEFAULT_TENANT_ID,
                    theta=theta,
                    responses_n=n,
                )
            )
        return student.id


async def _assign(
    sessionmaker: SessionMaker, student_id: uuid.UUID, item_ids: list[uuid.UUID], age_s: int
) -> None:
    assignment = Assignment(
        id=uuid.uuid4(),
        tenant_id=DEFAULT_TENANT_ID,
        student_id=student_id,
        subject="Algebra",
        topic=None,
        num_items=len(item_ids),
        goal_tags=[],
        warnings=[],
        bank_count=len(item_ids),
        generated_count=0,
        created_at=datetime.now(UTC) - timedelta(seconds=age_s),
    )
    links = [
        ItemLink(assignment.id, position, item_id, "linear_equations.two_step", 0.75, "near")
        for position, item_id in enumerate(item_ids, start=1)
    ]
    async with sessionmaker() as session, session.begin():
        await PracticeRepository(session).insert_assignment(assignment, links)


async def test_student_context_reads_skills_and_the_latest_assignments_items(
    sessionmaker: SessionMaker,
) -> None:
    items = await _bank(sessionmaker, 6)
    theta = 0.1 + 0.2  # 17 significant digits: read back exactly
    student = await _student(sessionmaker, ("a.one", theta, 3), ("a.two", -1.0, 7))
    await _assign(sessionmaker, student, items[0:2], age_s=30)
    await _assign(sessionmaker, student, items[2:4], age_s=20)
    await _assign(sessionmaker, student, items[4:6], age_s=10)
    async with autocommit_sessionmaker(sessionmaker)() as session:
        context = await PracticeRepository(session).student_context(
            DEFAULT_TENANT_ID, student, recent_assignments=2
        )
        none_recent = await PracticeRepository(session).student_context(
            DEFAULT_TENANT_ID, student, recent_assignments=0
        )
    assert context is not None and none_recent is not None
    assert context.abilities == {"a.one": SkillState(theta, 3), "a.two": SkillState(-1.0, 7)}
    async with sessionmaker() as session:
        rows = await session.execute(select(Item.id, Item.fingerprint))
        prints = {item_id: fingerprint for item_id, fingerprint in rows}
    assert sorted(context.recent) == sorted((i, prints[i]) for i in items[2:6])
    assert none_recent.recent == [] and len(none_recent.abilities) == 2


async def test_student_context_of_a_new_student_and_of_no_student(
    sessionmaker: SessionMaker,
) -> None:
    student = await _student(sessionmaker)
    async with sessionmaker() as session, session.begin():
        other_tenant = Tenant(name="other")
        session.add(other_tenant)
    async with sessionmaker() as session:
        practice = PracticeRepository(session)
        fresh = await practice.student_context(DEFAULT_TENANT_ID, student, 5)
        assert fresh is not None and fresh.abilities == {} and fresh.recent == []
        assert await practice.student_context(DEFAULT_TENANT_ID, uuid.uuid4(), 5) is None
        assert await practice.student_context(other_tenant.id, student, 5) is None


async def test_item_faces_are_read_by_id_within_the_tenant(sessionmaker: SessionMaker) -> None:
    items = await _bank(sessionmaker, 3)
    async with sessionmaker() as session:
        faces = await PracticeRepository(session).item_faces(DEFAULT_TENANT_ID, items[:2])
        elsewhere = await PracticeRepository(session).item_faces(uuid.uuid4(), items[:2])
    assert set(faces) == set(items[:2]) and elsewhere == {}
    face = faces[items[0]]
    assert face.id == items[0] and face.answer == "x = 1" and face.hints


async def test_an_assignment_is_inserted_with_the_items_it_generated(
    sessionmaker: SessionMaker,
) -> None:
    student = await _student(sessionmaker)
    content = ItemContent.model_validate(
        item_body(source="llm", tolerance=None, provenance={"problem": "2*x + 3 = 11", "n": 1.25})
    )
    made = to_row(DEFAULT_TENANT_ID, content)
    made.id = uuid.uuid4()
    assignment = Assignment(
        id=uuid.uuid4(),
        tenant_id=DEFAULT_TENANT_ID,
        student_id=student,
        subject="Algebra",
        topic=None,
        num_items=1,
        goal_tags=[],
        warnings=[],
        bank_count=0,
        generated_count=1,
        created_at=datetime.now(UTC),
    )
    link = ItemLink(assignment.id, 1, made.id, made.skill, 0.75, "generated")
    async with sessionmaker() as session, session.begin():
        await PracticeRepository(session).insert_assignment(assignment, [link], [made])
    async with sessionmaker() as session:
        stored = (await session.execute(select(Item).where(Item.id == made.id))).scalar_one()
        faces = await PracticeRepository(session).item_faces(DEFAULT_TENANT_ID, [made.id])
    assert ItemContent.model_validate(stored, from_attributes=True) == content
    assert (stored.fingerprint, stored.status, stored.responses_n) == (
        made.fingerprint,
        "active",
        0,
    )
    assert stored.created_at.tzinfo is not None and stored.updated_at == stored.created_at
    assert faces[made.id].stem == content.stem
