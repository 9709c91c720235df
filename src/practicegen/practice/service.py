"""Reading assignments and answering their items: an answer is graded through the node's
grading lane, stored, and applied to the learner model; each position is answered once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.auth.principal import Principal
from practicegen.db.engine import SessionMaker
from practicegen.db.models import Assignment, AssignmentItem, Item, Response
from practicegen.errors import AssignmentNotFound, Conflict, InvalidRequest
from practicegen.grading.grades import AnswerKey, Grade, InvalidKey
from practicegen.ports import AnswerPolicy, ChosenItem, ItemType
from practicegen.practice.assignments import Plan, store_assignment
from practicegen.practice.grading_lane import GradingLane, Place
from practicegen.practice.learner import ItemState, ResponseUpdate, SkillState, skill_state, update
from practicegen.practice.repository import ItemFace, PracticeRepository
from practicegen.practice.schemas import (
    AssignedItem,
    AssignmentRead,
    ChoiceRead,
    ResponseCreate,
    ResponseRead,
    ResponseSummary,
)


class AlreadyAnswered(Conflict):
    code = "already_answered"
    default_message = "This item of the assignment has already been answered."


class UngradableItem(Conflict):
    code = "item_key_unreadable"
    default_message = "This item's answer key cannot be read, so answers to it cannot be graded."


class NoSuchPosition(InvalidRequest):
    code = "no_such_position"
    default_message = "The assignment has no item at this position."


async def _assignment(
    session: AsyncSession, principal: Principal, assignment_id: uuid.UUID
) -> Assignment:
    row = await PracticeRepository(session).get(principal.tenant_id, assignment_id)
    if row is None or (principal.is_student and row.student_id != principal.student_id):
        raise AssignmentNotFound(assignment_id=str(assignment_id))
    return row


_ITEM_SHOWN = ("subject", "topic", "skill", "type", "stem", "hints", "source", "answer_policy")
_ASSIGNMENT_SHOWN = AssignmentRead.model_fields.keys() - {"assignment_id", "items"}


def _item_view(
    position: int,
    item: Item | ItemFace,
    chosen: AssignmentItem | ChosenItem,
    response: Response | None,
    *,
    with_keys: bool,
) -> AssignedItem:
    """One item as shown: keys and misconceptions only `with_keys`, a solution once answered."""
    return AssignedItem(
        position=position,
        item_id=item.id,
        **{name: getattr(item, name) for name in _ITEM_SHOWN},
        choices=[
            ChoiceRead(
                id=c["id"],
                text=c["text"],
                misconception=c.get("misconception") if with_keys else None,
            )
            for c in item.choices
        ],
        difficulty=round(item.difficulty, 3),
        predicted_success=round(chosen.predicted_success, 3),
        reason=chosen.reason,
        answer=item.answer if with_keys else None,
        solution=item.solution if with_keys or response is not None else None,
        response=None
        if response is None
        else ResponseSummary(
            response_id=response.id,
            answer=response.answer,
            correct=response.correct,
            feedback_code=response.feedback_code,
            created_at=response.created_at,
        ),
    )


def _assignment_view(assignment: Assignment, items: list[AssignedItem]) -> AssignmentRead:
    stored = {name: getattr(assignment, name) for name in _ASSIGNMENT_SHOWN}
    return AssignmentRead(assignment_id=assignment.id, items=items, **stored)


async def store_and_show(
    session: AsyncSession, *, principal: Principal, plan: Plan, now: datetime
) -> AssignmentRead:
    """Store the plan and show it as `get_assignment` would, without reading it back."""
    assignment = await store_assignment(session, plan, now)
    with_keys = not principal.is_student
    items = [  # a new assignment has no responses
        _item_view(position, plan.faces[chosen.item_id], chosen, None, with_keys=with_keys)
        for position, chosen in enumerate(plan.chosen, start=1)
    ]
    return _assignment_view(assignment, items)


async def get_assignment(
    session: AsyncSession, *, principal: Principal, assignment_id: uuid.UUID
) -> AssignmentRead:
    assignment = await _assignment(session, principal, assignment_id)
    practice = PracticeRepository(session)
    answered = {r.position: r for r in await practice.responses(assignment.id)}
    with_keys = not principal.is_student
    items = [
        _item_view(link.position, item, link, answered.get(link.position), with_keys=with_keys)
        for link, item in await practice.assignment_items(assignment.id)
    ]
    return _assignment_view(assignment, items)


def answer_key(item: Item) -> AnswerKey:
    return AnswerKey(
        type=ItemType(item.type),
        answer=item.answer,
        policy=AnswerPolicy(item.answer_policy),
        tolerance=item.tolerance,
        choice_ids=tuple(c["id"] for c in item.choices),
    )


@dataclass(frozen=True, slots=True)
class _Target:
    """What answering a position needs, read before grading; `item` is detached."""

    tenant_id: uuid.UUID
    assignment_id: uuid.UUID
    student_id: uuid.UUID
    item: Item


async def _read_target(
    sessionmaker: SessionMaker, principal: Principal, assignment_id: uuid.UUID, position: int
) -> _Target:
    async with sessionmaker() as reading:
        assignment = await _assignment(reading, principal, assignment_id)
        practice = PracticeRepository(reading)
        for link, item in await practice.assignment_items(assignment.id):
            if link.position == position:
                if await practice.response_at(assignment.id, position) is not None:
                    raise AlreadyAnswered(position=position)
                return _Target(assignment.tenant_id, assignment.id, assignment.student_id, item)
        raise NoSuchPosition(position=position, num_items=assignment.num_items)


async def _graded(place: Place, item: Item, answer: str) -> Grade:
    try:
        return await place(answer, answer_key(item))
    except InvalidKey as exc:
        raise UngradableItem(item_id=str(item.id), reason=str(exc)) from exc


async def answer_item(
    sessionmaker: SessionMaker,
    *,
    reading: SessionMaker,
    principal: Principal,
    assignment_id: uuid.UUID,
    body: ResponseCreate,
    lane: GradingLane,
    now: datetime,
) -> ResponseRead:
    """Grade an answer, holding no connection, then store it and teach the model in one short
    transaction. A student token takes its lane place before any query, so a flood is refused
    without one; a server key's, once the student is read."""
    position = body.position
    if principal.student_id is not None:
        with lane.place(principal.tenant_id, principal.student_id) as place:
            target = await _read_target(reading, principal, assignment_id, position)
            grade = await _graded(place, target.item, body.answer)
    else:
        target = await _read_target(reading, principal, assignment_id, position)
        with lane.place(principal.tenant_id, target.student_id) as place:
            grade = await _graded(place, target.item, body.answer)
    async with sessionmaker() as session, session.begin():
        return await _record(session, target, body, grade, now)


async def _teach(
    practice: PracticeRepository, target: _Target, correct: bool, now: datetime
) -> ResponseUpdate:
    """One Elo step for the student's skill (its row locked) and the item's difficulty."""
    others = await practice.abilities(target.student_id)
    row = await practice.lock_skill(
        tenant_id=target.tenant_id,
        student_id=target.student_id,
        skill=target.item.skill,
        prior=skill_state(others, target.item.skill).theta,
        now=now,
    )
    item_before = ItemState(target.item.difficulty, target.item.responses_n)
    step = update(SkillState(row.theta, row.responses_n), item_before, correct)
    await practice.shift_item_difficulty(
        target.item.id, step.item.difficulty - item_before.difficulty
    )
    row.theta, row.responses_n, row.updated_at = step.skill.theta, step.skill.n, now
    return step


async def _record(
    session: AsyncSession, target: _Target, body: ResponseCreate, grade: Grade, now: datetime
) -> ResponseRead:
    practice = PracticeRepository(session)
    if await practice.response_at(target.assignment_id, body.position) is not None:
        raise AlreadyAnswered(position=body.position)  # answered while this one was graded
    student_id, item = target.student_id, target.item
    step = await _teach(practice, target, grade.correct, now)
    response = Response(
        tenant_id=target.tenant_id,
        assignment_id=target.assignment_id,
        position=body.position,
        item_id=item.id,
        student_id=student_id,
        answer=body.answer,
        correct=grade.correct,
        feedback_code=grade.feedback_code,
        predicted=step.predicted,
        created_at=now,
    )
    try:
        await practice.add(response)
    except IntegrityError as exc:  # a concurrent answer to the same position won
        raise AlreadyAnswered(position=body.position) from exc
    return ResponseRead(
        response_id=response.id,
        assignment_id=target.assignment_id,
        position=body.position,
        item_id=item.id,
        correct=grade.correct,
        feedback_code=grade.feedback_code,
        message=grade.message,
        predicted_success=round(step.predicted, 3),
        skill=item.skill,
        ability=round(step.skill.theta, 3),
        correct_answer=item.answer,
        solution=item.solution,
        created_at=now,
    )
