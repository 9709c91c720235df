"""The grading lane: refusals at once past each share, turns round-robin across tenants and
students, and places given back however an answer ends. A real `Grader` does the grading."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from pydantic import ValidationError

from practicegen.config import Settings
from practicegen.errors import ServiceBusy, TooManyRequests
from practicegen.grading.grader import Grader
from practicegen.grading.grades import AnswerKey, Grade
from practicegen.ports import AnswerPolicy, ItemType
from practicegen.practice.grading_lane import GradingLane

KEY = AnswerKey(ItemType.EXPRESSION, "2x+3", AnswerPolicy.EQUIVALENT)
# Equal to the key; sympy takes seconds to prove it, so it holds its process to the deadline.
SLOW = "2x+3+(x+1)^100(x-1)^100-(x^2-1)^100+(x+2)^100(x-2)^100-(x^2-4)^100"
HALF_OF_SLOW = "2x+3+(x+1)^100(x-1)^100-(x^2-1)^100"  # weighs 401 to SLOW's 801
TIMEOUT_S = 1.0


@pytest.fixture
async def grader() -> AsyncIterator[Grader]:
    async with Grader(workers=1, timeout_s=TIMEOUT_S, max_answer_weight=10**5) as running:
        yield running


def lane_of(grader: Grader, slots: int = 8, tenant: int = 4, student: int = 2) -> GradingLane:
    return GradingLane(grader, slots=slots, tenant_share=tenant, student_share=student)


async def test_each_share_is_refused_at_once_and_given_back(grader: Grader) -> None:
    lane = lane_of(grader, slots=3, tenant=2, student=1)
    tenant, other_tenant = uuid.uuid4(), uuid.uuid4()
    ada, bob, cy = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with lane.place(tenant, ada):
        with pytest.raises(TooManyRequests) as student_share:
            lane.place(tenant, ada).__enter__()
        assert student_share.value.details == {"share": "student", "limit": 1}
        # one answer of at most 1 s on one process, and up to as much again
        assert student_share.value.retry_after_s in (1, 2)
        with lane.place(tenant, bob):
            with pytest.raises(TooManyRequests) as tenant_share:
                lane.place(tenant, cy).__enter__()
            assert tenant_share.value.details["share"] == "tenant"
            with lane.place(other_tenant, cy):
                with pytest.raises(ServiceBusy) as busy:
                    lane.place(other_tenant, uuid.uuid4()).__enter__()
                assert 3 <= busy.value.retry_after_s <= 6  # three answers of at most 1 s
                assert lane.places == 3
    assert lane.places == 0
    with lane.place(tenant, ada):  # every share was given back
        assert lane.places == 1


async def test_turns_go_round_robin_across_tenants_then_students(grader: Grader) -> None:
    lane = lane_of(grader, slots=16, tenant=8, student=4)
    busy, crowd, quiet = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    hog, friend, lone = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    finished: list[str] = []

    async def answer(tenant: uuid.UUID, student: uuid.UUID, name: str, text: str) -> None:
        with lane.place(tenant, student) as place:
            await place(text, KEY)
        finished.append(name)

    blocker = asyncio.create_task(answer(busy, uuid.uuid4(), "blocker", SLOW))
    await asyncio.sleep(0.2)  # the blocker holds the only process; everyone else waits
    waiting = [
        answer(crowd, hog, "hog1", "2x+3"),
        answer(crowd, hog, "hog2", "2x+3"),
        answer(crowd, hog, "hog3", "2x+3"),
        answer(crowd, friend, "friend", "3+2x"),
        answer(quiet, lone, "lone", "x+x+3"),
    ]
    await asyncio.gather(blocker, *waiting)
    # FIFO would be hog1 hog2 hog3 friend lone
    assert finished == ["blocker", "hog1", "lone", "friend", "hog2", "hog3"]


async def test_a_refused_answer_needs_no_turn() -> None:
    """With the process busy, an answer the cost bound refuses is graded without waiting."""
    # the bound lets half of SLOW through, which holds the process to its deadline
    async with Grader(workers=1, timeout_s=TIMEOUT_S, max_answer_weight=500) as bounded:
        lane = lane_of(bounded)
        tenant = uuid.uuid4()
        blocker = asyncio.create_task(_grade(lane, tenant, HALF_OF_SLOW))
        await asyncio.sleep(0.1)
        started = time.perf_counter()
        grade = await _grade(lane, tenant, SLOW)
        assert grade.feedback_code == "too_complex"
        assert time.perf_counter() - started < 0.1
        assert not blocker.done()
        await blocker


async def _grade(lane: GradingLane, tenant: uuid.UUID, text: str) -> Grade:
    with lane.place(tenant, uuid.uuid4()) as place:
        return await place(text, KEY)


async def test_a_cancelled_wait_gives_its_place_and_turn_back(grader: Grader) -> None:
    lane = lane_of(grader)
    tenant = uuid.uuid4()
    blocker = asyncio.create_task(_grade(lane, tenant, SLOW))
    await asyncio.sleep(0.2)
    gone = asyncio.create_task(_grade(lane, tenant, "2x+3"))
    await asyncio.sleep(0.05)
    assert lane.places == 2
    gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert lane.places == 1
    after = asyncio.create_task(_grade(lane, tenant, "2x+3"))
    await blocker
    assert (await asyncio.wait_for(after, 5)).correct is True
    assert lane.places == 0


def test_shares_must_nest(grader: Grader) -> None:
    with pytest.raises(ValueError, match="nest"):
        GradingLane(grader, slots=4, tenant_share=8, student_share=2)


def test_settings_refuse_shares_that_do_not_nest() -> None:
    with pytest.raises(ValidationError, match="nest"):
        Settings(_env_file=None, grading_student_share=40, grading_tenant_share=32)
    with pytest.raises(ValidationError, match="nest"):
        Settings(_env_file=None, grading_tenant_share=65, grading_queue_slots=64)
