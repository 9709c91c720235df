"""SQL for assignments, their items, responses and the learner's per-skill state. The statements
the sync assign runs on every request are built once, with bound parameters."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    TextClause,
    bindparam,
    case,
    cast,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from practicegen.db.models import (
    Assignment,
    AssignmentItem,
    Item,
    LearnerSkill,
    Response,
    Student,
    bank_version_of,
    core_table,
)
from practicegen.db.repository import TenantRepository
from practicegen.db.sqlite_driver import pipeline
from practicegen.db.upsert import upsert
from practicegen.practice.learner import SkillState
from practicegen.practice.review import ReviewState


@dataclass(frozen=True, slots=True)
class StudentContext:
    """What planning needs of a student, read in one round trip."""

    abilities: dict[str, SkillState]
    recent: list[tuple[uuid.UUID, str]]
    bank_version: int
    reviews: list[ReviewState] = field(default_factory=list)


class ItemLink(NamedTuple):
    """One row of `assignment_items`; a plain tuple, as building ORM objects costs CPU."""

    assignment_id: uuid.UUID
    position: int
    item_id: uuid.UUID
    skill: str
    predicted_success: float
    reason: str


@dataclass(frozen=True, slots=True)
class ItemFace:
    """What an assignment shows of an item, read without building an ORM object."""

    id: uuid.UUID
    subject: str
    topic: str
    skill: str
    type: str
    stem: str
    choices: list[Any]
    hints: list[Any]
    difficulty: float
    source: str
    answer: str
    answer_policy: str
    solution: str | None


# The hot path reads through Core tables: the ORM adds CPU to every execution.
_students = core_table(Student)
_skills = core_table(LearnerSkill)
_items = core_table(Item)
_assignments = core_table(Assignment)
_assignment_items = core_table(AssignmentItem)
_responses = core_table(Response)

_latest_assignments = (
    select(_assignments.c.id)
    .where(
        _assignments.c.tenant_id == bindparam("tenant_id"),
        _assignments.c.student_id == bindparam("student_id"),
    )
    .order_by(_assignments.c.created_at.desc())
    .limit(bindparam("assignments"))
    .scalar_subquery()
)


def _reviews() -> Select[Any]:
    """Per item the student answered wrong: when last answered, right answers since (`review`)."""
    mine = _responses.c.student_id == bindparam("student_id")
    wrong = (
        select(_responses.c.item_id, func.max(_responses.c.created_at).label("last_wrong"))
        .where(mine, _responses.c.correct.is_(False))
        .group_by(_responses.c.item_id)
        .subquery()
    )
    right_since = case((_responses.c.correct & (_responses.c.created_at > wrong.c.last_wrong), 1))
    return (
        select(
            _responses.c.item_id.label("item_id"),
            func.max(_responses.c.created_at).label("last_answered"),
            func.count(right_since).label("right_since_wrong"),
        )
        .join(wrong, wrong.c.item_id == _responses.c.item_id)
        .where(mine)
        .group_by(_responses.c.item_id)
    )


def _student_context(dialect: str) -> Select[str, str, str, int]:
    """The student's skills, recent items and reviews as JSON arrays, and the bank version, in one
    row (each row SQLite returns is a thread step); abilities as text on SQLite (15 digits)."""
    sqlite = dialect == "sqlite"
    array = func.json_array if sqlite else func.json_build_array

    def rows(*columns: ColumnElement[Any]) -> ColumnElement[str]:
        if sqlite:
            return func.json_group_array(array(*columns))
        return func.coalesce(cast(func.json_agg(array(*columns)), Text), "[]")

    theta = func.printf("%!.17g", _skills.c.theta) if sqlite else _skills.c.theta
    skills = select(rows(_skills.c.skill, theta, _skills.c.responses_n)).where(
        _skills.c.student_id == _students.c.id
    )
    recent = (
        select(rows(_items.c.id, _items.c.fingerprint))
        .select_from(_items.join(_assignment_items, _assignment_items.c.item_id == _items.c.id))
        .where(_assignment_items.c.assignment_id.in_(_latest_assignments))
    )
    under_review = _reviews().subquery()
    reviews = select(rows(*under_review.c))  # item_id, last_answered, right_since_wrong
    version = bank_version_of(bindparam("tenant_id")).scalar_subquery()
    return select(
        skills.scalar_subquery(), recent.scalar_subquery(), reviews.scalar_subquery(), version
    ).where(
        _students.c.tenant_id == bindparam("tenant_id"), _students.c.id == bindparam("student_id")
    )


_STUDENT_CONTEXT = {dialect: _student_context(dialect) for dialect in ("sqlite", "postgresql")}
_ITEM_FACE_COLUMNS = [_items.c[field.name] for field in fields(ItemFace)]
# Filtered by primary key alone: given `tenant_id = ?` too, SQLite (which has no statistics)
# picks a (tenant_id, ...) index and scans the tenant's whole bank. The caller checks the tenant.
_ITEM_FACES = select(_items.c.tenant_id, *_ITEM_FACE_COLUMNS).where(
    _items.c.id.in_(bindparam("item_ids", expanding=True))
)
_INSERT_ASSIGNMENT = insert(_assignments)
_INSERT_ASSIGNMENT_ITEM = insert(_assignment_items)
# PostgreSQL takes an assignment, its links (an array per column) and new items (one JSON array)
# in one statement, through data-modifying WITHs, which SQLite lacks.
_ITEM_ARRAYS = ItemLink._fields[1:]
_ITEM_KEYS = [column.key for column in _items.columns]
_WITH_NEW_ITEMS = """
    WITH new_items AS (
        INSERT INTO items
        SELECT * FROM jsonb_populate_recordset(NULL::items, CAST(:new_items AS JSONB))
    ),"""
_ASSIGNMENT_WITH_LINKS = """
    new_assignment AS (
        INSERT INTO assignments (id, tenant_id, student_id, subject, topic, num_items, goal_tags,
                                 warnings, bank_count, generated_count, created_at)
        VALUES (:id, :tenant_id, :student_id, :subject, :topic, :num_items, :goal_tags,
                :warnings, :bank_count, :generated_count, :created_at)
    )
    INSERT INTO assignment_items (assignment_id, position, item_id, skill, predicted_success,
                                  reason)
    SELECT :id, * FROM unnest(CAST(:position AS INTEGER[]), CAST(:item_id AS UUID[]),
                              CAST(:skill AS TEXT[]),
                              CAST(:predicted_success AS DOUBLE PRECISION[]),
                              CAST(:reason AS TEXT[]))
    """


def _insert_assignment_with_links(new_items: bool) -> TextClause:
    statement = text((_WITH_NEW_ITEMS if new_items else "WITH") + _ASSIGNMENT_WITH_LINKS)
    return statement.bindparams(
        *(bindparam(column.key, type_=column.type) for column in _assignments.columns),
        *(bindparam(name, type_=ARRAY(_assignment_items.c[name].type)) for name in _ITEM_ARRAYS),
    )


_INSERT_ASSIGNMENT_WITH_LINKS = {new: _insert_assignment_with_links(new) for new in (False, True)}
_INSERT_ITEMS = insert(_items)


def _new_item_values(item: Item, now: datetime) -> dict[str, Any]:
    """A generated item's row, with the defaults its columns would take."""
    values = {key: getattr(item, key) for key in _ITEM_KEYS}
    defaults = {"created_at": now, "updated_at": now, "responses_n": 0, "status": "active"}
    return values | {key: value for key, value in defaults.items() if values[key] is None}


class PracticeRepository(TenantRepository[Assignment]):
    model = Assignment

    async def assignment_items(self, assignment_id: uuid.UUID) -> list[tuple[AssignmentItem, Item]]:
        query = (
            select(AssignmentItem, Item)
            .join(Item, Item.id == AssignmentItem.item_id)
            .where(AssignmentItem.assignment_id == assignment_id)
            .order_by(AssignmentItem.position)
        )
        return [(ai, item) for ai, item in (await self.session.execute(query)).all()]

    async def responses(self, assignment_id: uuid.UUID) -> list[Response]:
        query = select(Response).where(Response.assignment_id == assignment_id)
        return list((await self.session.execute(query)).scalars())

    async def response_at(self, assignment_id: uuid.UUID, position: int) -> Response | None:
        where = Response.assignment_id == assignment_id, Response.position == position
        return await self.session.scalar(select(Response).where(*where))

    async def student_context(
        self, tenant_id: uuid.UUID, student_id: uuid.UUID, recent_assignments: int
    ) -> StudentContext | None:
        """The student's context, recent items from `recent_assignments`; None if no such."""
        params = {
            "tenant_id": tenant_id,
            "student_id": student_id,
            "assignments": max(recent_assignments, 0),
        }
        statement = _STUDENT_CONTEXT[self.session.get_bind().dialect.name]
        row = (await self.session.execute(statement, params)).first()
        if row is None:
            return None
        skills_json, recent_json, reviews_json, version = row
        return StudentContext(
            {name: SkillState(float(theta), n) for name, theta, n in json.loads(skills_json)},
            [(uuid.UUID(item_id), fingerprint) for item_id, fingerprint in json.loads(recent_json)],
            int(version),
            [
                ReviewState(uuid.UUID(item_id), datetime.fromisoformat(at), int(right))
                for item_id, at, right in json.loads(reviews_json)
            ],
        )

    async def item_faces(
        self, tenant_id: uuid.UUID, item_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, ItemFace]:
        rows = await self.session.execute(_ITEM_FACES, {"item_ids": list(item_ids)})
        return {row[1]: ItemFace(*row[1:]) for row in rows if row[0] == tenant_id}

    async def insert_assignment(
        self, assignment: Assignment, items: Sequence[ItemLink], new_items: Sequence[Item] = ()
    ) -> None:
        """Insert an assignment (every column set), its links and new items (made when it was),
        bypassing the unit of work; on SQLite the commit sends them. The caller marks the bank
        changed."""
        values = {column.key: getattr(assignment, column.key) for column in _assignments.columns}
        made = [_new_item_values(item, assignment.created_at) for item in new_items]
        if self.session.get_bind().dialect.name == "postgresql":
            params = values | {n: [getattr(item, n) for item in items] for n in _ITEM_ARRAYS}
            if made:  # as JSON: the columns of `items`, in one parameter
                params["new_items"] = json.dumps(made, default=str)
            await self.session.execute(_INSERT_ASSIGNMENT_WITH_LINKS[bool(made)], params)
            return
        async with pipeline(await self.session.connection()):  # sent with the commit
            if made:
                await self.session.execute(_INSERT_ITEMS, made)
            await self.session.execute(_INSERT_ASSIGNMENT, values)
            if items:
                rows = [item._asdict() for item in items]
                await self.session.execute(_INSERT_ASSIGNMENT_ITEM, rows)

    async def abilities(self, student_id: uuid.UUID) -> dict[str, SkillState]:
        columns = _skills.c.skill, _skills.c.theta, _skills.c.responses_n
        query = select(*columns).where(_skills.c.student_id == student_id)
        return {skill: SkillState(t, n) for skill, t, n in await self.session.execute(query)}

    async def lock_skill(
        self,
        *,
        tenant_id: uuid.UUID,
        student_id: uuid.UUID,
        skill: str,
        prior: float,
        now: datetime,
    ) -> LearnerSkill:
        """The student's row for `skill`, made at `prior` if missing, locked for update."""
        values = {
            "student_id": student_id,
            "skill": skill,
            "tenant_id": tenant_id,
            "theta": prior,
            "responses_n": 0,
            "updated_at": now,
        }
        insert = upsert(self.session, LearnerSkill).values(values)
        await self.session.execute(insert.on_conflict_do_nothing())
        query = (
            select(LearnerSkill)
            .where(LearnerSkill.student_id == student_id, LearnerSkill.skill == skill)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(query)).scalar_one()

    async def shift_item_difficulty(self, item_id: uuid.UUID, delta: float) -> None:
        """Add to an item's difficulty atomically, so concurrent answers don't lose updates."""
        await self.session.execute(
            update(Item)
            .where(Item.id == item_id)
            .values(difficulty=Item.difficulty + delta, responses_n=Item.responses_n + 1)
        )

    async def add(self, row: object) -> None:
        self.session.add(row)
        await self.session.flush()
