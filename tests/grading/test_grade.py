"""Every labelled case in grading_cases.json graded by `grade_answer`, with the error counts.

A false accept (a wrong answer marked right) and a false reject (a right answer marked wrong)
are both failures; the counts are printed so a run with `-s` shows them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from practicegen.grading.grade import grade_answer
from practicegen.grading.grades import AnswerKey, FeedbackCode, Grade, InvalidKey
from practicegen.ports import AnswerPolicy, ItemType

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "grading_cases.json").read_text(encoding="utf-8")
)


def key_of(case: dict[str, Any]) -> AnswerKey:
    return AnswerKey(
        type=ItemType(case["type"]),
        answer=case["key"],
        policy=AnswerPolicy(case["policy"]),
        tolerance=case.get("tolerance"),
        choice_ids=tuple(case.get("choices", ())),
    )


def describe(case: dict[str, Any], grade: Grade) -> str:
    return (
        f"{case['answer']!r} for key {case['key']!r} ({case['type']}/{case['policy']}): "
        f"{grade.feedback_code} ({grade.message})"
    )


def test_the_labelled_cases_are_graded_without_false_accepts_or_rejects() -> None:
    false_accepts: list[str] = []
    false_rejects: list[str] = []
    wrong_codes: list[str] = []
    for case in CASES:
        grade = grade_answer(case["answer"], key_of(case))
        if grade.correct and not case["correct"]:
            false_accepts.append(describe(case, grade))
        elif case["correct"] and not grade.correct:
            false_rejects.append(describe(case, grade))
        expected_code = case.get("feedback_code", "correct" if case["correct"] else None)
        if expected_code is not None and grade.feedback_code != expected_code:
            wrong_codes.append(f"expected {expected_code}: {describe(case, grade)}")
    print(
        f"\ngrading cases: {len(CASES)}, false accepts: {len(false_accepts)}, "
        f"false rejects: {len(false_rejects)}, wrong feedback codes: {len(wrong_codes)}"
    )
    assert false_accepts == []
    assert false_rejects == []
    assert wrong_codes == []


def test_the_case_file_is_large_and_well_formed() -> None:
    assert len(CASES) >= 180
    codes = {code.value for code in FeedbackCode}
    for case in CASES:
        assert {"key", "type", "policy", "answer", "correct"} <= case.keys(), case
        assert case.get("feedback_code", "correct") in codes, case
        assert case["correct"] == (case.get("feedback_code", "correct") == "correct"), case
    labelled = {case.get("feedback_code") for case in CASES}
    assert codes - labelled == {"timed_out"}  # only the subprocess grader times out


def test_every_grade_carries_a_short_message() -> None:
    for case in CASES[:40]:
        grade = grade_answer(case["answer"], key_of(case))
        assert grade.message and len(grade.message) < 120 and "\n" not in grade.message


def test_an_unreadable_key_is_the_items_fault_not_the_students() -> None:
    key = AnswerKey(ItemType.NUMERIC, "__import__('os')", AnswerPolicy.EQUIVALENT)
    with pytest.raises(InvalidKey):
        grade_answer("7", key)


def test_the_length_cap_is_a_parameter() -> None:
    key = AnswerKey(ItemType.NUMERIC, "7", AnswerPolicy.EQUIVALENT)
    assert grade_answer("3+4", key, max_length=2).feedback_code == "too_long"
    assert grade_answer("3+4", key, max_length=3).correct


def test_a_tolerance_boundary_is_inclusive_and_exact() -> None:
    key = AnswerKey(ItemType.NUMERIC, "0.3", AnswerPolicy.NUMERIC_TOLERANCE, tolerance=0.1)
    assert grade_answer("0.2", key).correct  # 0.3 - 0.2 is 0.1 exactly, not 0.0999...
    assert grade_answer("0.4", key).correct
    assert not grade_answer("0.41", key).correct
