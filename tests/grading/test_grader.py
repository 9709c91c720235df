"""The subprocess `Grader`: deadlines, the kill path, concurrency and clean shutdown."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import time
from collections.abc import AsyncIterator

import pytest

from practicegen.grading.grader import Grader, GraderClosed
from practicegen.grading.grades import AnswerKey, InvalidKey
from practicegen.ports import AnswerPolicy, ItemType

FACTORED = AnswerKey(ItemType.EXPRESSION, "x^2 - 1", AnswerPolicy.EQUIVALENT)
SOLVE = AnswerKey(ItemType.EQUATION, "x = 2 or x = -3", AnswerPolicy.SOLUTION_SET)
# Equal to its key and within every cap, but sympy needs seconds to prove it.
SLOW_ANSWER = "(x+1)^100(x+2)^100(x+3)^100(x+4)^100"
SLOW_KEY = AnswerKey(ItemType.EXPRESSION, "(x^2+3x+2)^100(x^2+7x+12)^100", AnswerPolicy.EQUIVALENT)
TIMEOUT_S = 0.5
UNBOUNDED = 10**5  # a cost bound no answer reaches: these tests need answers that run long


def child_pids() -> set[int]:
    return {p.pid for p in multiprocessing.active_children() if p.pid is not None}


@pytest.fixture
async def grader() -> AsyncIterator[Grader]:
    async with Grader(workers=2, timeout_s=TIMEOUT_S, max_answer_weight=UNBOUNDED) as running:
        yield running


async def test_a_correct_answer_grades_correct_in_a_subprocess(grader: Grader) -> None:
    grade = await grader.grade("(x+1)(x-1)", FACTORED)
    assert grade.correct and grade.feedback_code == "correct"
    partial = await grader.grade("x = 2", SOLVE)
    assert not partial.correct and partial.feedback_code == "partial_solution_set"


async def test_hostile_answers_are_refused_quickly(grader: Grader) -> None:
    for hostile in ("9**9**9", "2^2^2^2^2^2", "__import__('os').system('true')", "x" * 10_000):
        started = time.perf_counter()
        grade = await grader.grade(hostile, FACTORED)
        assert not grade.correct
        assert grade.feedback_code in ("unparseable", "too_long", "timed_out")
        assert time.perf_counter() - started < TIMEOUT_S + 1


async def test_a_stuck_worker_is_killed_and_replaced(grader: Grader) -> None:
    before = child_pids()
    started = time.perf_counter()
    grade = await grader.grade(SLOW_ANSWER, SLOW_KEY)
    elapsed = time.perf_counter() - started
    assert grade.feedback_code == "timed_out" and not grade.correct
    assert TIMEOUT_S <= elapsed < TIMEOUT_S + 1
    await grader.start()  # waits for the replacement
    after = child_pids()
    killed = before - after
    assert len(killed) == 1 and len(after - before) == 1
    assert (await grader.grade("(x-1)(x+1)", FACTORED)).correct


async def test_the_event_loop_keeps_running_while_a_worker_is_stuck(grader: Grader) -> None:
    gaps: list[float] = []

    async def tick() -> None:
        last = time.perf_counter()
        for _ in range(40):
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    grade, _ = await asyncio.gather(grader.grade(SLOW_ANSWER, SLOW_KEY), tick())
    assert grade.feedback_code == "timed_out"
    assert max(gaps) < 0.2


async def test_fifty_concurrent_grades_complete(grader: Grader) -> None:
    answers = [f"x = 2 or x = {-3 + (i % 2)}" for i in range(50)]
    grades = await asyncio.wait_for(
        asyncio.gather(*(grader.grade(a, SOLVE) for a in answers)), timeout=30
    )
    assert [g.correct for g in grades] == [i % 2 == 0 for i in range(50)]


async def test_concurrent_calls_survive_a_timeout_among_them(grader: Grader) -> None:
    slow = grader.grade(SLOW_ANSWER, SLOW_KEY)
    quick = [grader.grade("x = -3, x = 2", SOLVE) for _ in range(20)]
    first, *rest = await asyncio.wait_for(asyncio.gather(slow, *quick), timeout=30)
    assert first.feedback_code == "timed_out"
    assert all(g.correct for g in rest)


async def test_a_cancelled_call_frees_its_worker() -> None:
    # a deadline far past the cancel, so a replacement worker slow to start on a loaded
    # machine is no timeout
    async with Grader(workers=2, timeout_s=10, max_answer_weight=UNBOUNDED) as grader:
        call = asyncio.create_task(grader.grade(SLOW_ANSWER, SLOW_KEY))
        await asyncio.sleep(0.1)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        await grader.start()
        grades = await asyncio.gather(*(grader.grade("x^2-1", FACTORED) for _ in range(4)))
    assert [g.correct for g in grades] == [True] * 4, grades


async def test_workers_that_died_while_idle_are_replaced_without_failing_a_call(
    grader: Grader,
) -> None:
    await grader.start()
    before = child_pids()
    for pid in before:
        os.kill(pid, signal.SIGKILL)
    for _ in range(500):  # until they are reaped, as if they had died a while ago
        if not child_pids() & before:
            break
        await asyncio.sleep(0.01)
    assert (await grader.grade("(x+1)(x-1)", FACTORED)).correct
    await grader.start()
    assert len(child_pids() - before) == 2


async def test_an_unreadable_key_raises_in_the_caller(grader: Grader) -> None:
    broken = AnswerKey(ItemType.NUMERIC, "x ==", AnswerPolicy.EQUIVALENT)
    with pytest.raises(InvalidKey):
        await grader.grade("1", broken)
    assert (await grader.grade("(x+1)(x-1)", FACTORED)).correct


async def test_a_grading_failure_is_reported_as_unchecked_and_the_worker_kept(
    grader: Grader,
) -> None:
    before = child_pids()
    malformed = AnswerKey(ItemType.NUMERIC, None, AnswerPolicy.EQUIVALENT)  # type: ignore[arg-type]
    grade = await grader.grade("1", malformed)
    assert grade.feedback_code == "unparseable" and "could not be checked" in grade.message
    assert child_pids() == before


async def test_no_process_outlives_aclose() -> None:
    before = child_pids()
    grader = Grader(workers=3, timeout_s=TIMEOUT_S, max_answer_weight=UNBOUNDED)
    assert (await grader.grade("x^2-1", FACTORED)).correct
    assert len(child_pids() - before) == 3
    timed_out = await grader.grade(SLOW_ANSWER, SLOW_KEY)  # leaves a replacement starting
    assert timed_out.feedback_code == "timed_out"
    await grader.aclose()
    assert child_pids() <= before
    await grader.aclose()  # closing twice is harmless
    with pytest.raises(GraderClosed):
        await grader.grade("1", FACTORED)


async def test_aclose_during_a_call_ends_the_call() -> None:
    before = child_pids()
    grader = Grader(workers=1, timeout_s=5.0, max_answer_weight=UNBOUNDED)
    await grader.start()
    call = asyncio.create_task(grader.grade(SLOW_ANSWER, SLOW_KEY))
    await asyncio.sleep(0.2)
    started = time.perf_counter()
    await grader.aclose()
    with pytest.raises(GraderClosed):
        await call
    assert time.perf_counter() - started < 2
    assert child_pids() <= before


async def test_the_cost_bound_refuses_a_slow_answer_without_a_worker() -> None:
    async with Grader(workers=1, timeout_s=TIMEOUT_S) as bounded:
        before = child_pids()
        started = time.perf_counter()
        grade = await bounded.grade(SLOW_ANSWER, SLOW_KEY)
        assert grade.feedback_code == "too_complex" and not grade.correct
        # no worker ran it: a run would have met the deadline, and its worker been replaced
        assert time.perf_counter() - started < TIMEOUT_S
        assert child_pids() == before
        assert (await bounded.grade("(x-1)(x+1)", FACTORED)).correct
