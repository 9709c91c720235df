"""What grading reads and answers, without sympy: an item's key, a grade and its feedback codes,
and the cost bound's refusal. The node's event loop shapes and refuses grades with these, while
`grade`, which compares with sympy, runs only in the grading processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from practicegen.grading import answer_cost
from practicegen.ports import AnswerPolicy, ItemType


class FeedbackCode(StrEnum):
    """How an answer compares with the key; stable, as each is stored with its response."""

    CORRECT = "correct"
    INCORRECT = "incorrect"  # wrong, or not the kind of answer asked for (a list for a number)
    NOT_SIMPLIFIED = "not_simplified"  # equal, but EXACT_FORM wants it in the key's form
    SIGN_ERROR = "sign_error"  # exactly the key negated (every solution negated, for a set)
    PARTIAL_SOLUTION_SET = "partial_solution_set"  # some of the key's solutions, not all
    WRONG_VARIABLE = "wrong_variable"  # a variable the key does not use (`y = 4` for `x = 4`)
    EMPTY_ANSWER = "empty_answer"  # nothing but spaces
    TOO_LONG = "too_long"  # longer than the length cap
    UNPARSEABLE = "unparseable"  # not readable, or refused for safety (`9**9**9`)
    TOO_COMPLEX = "too_complex"  # over the cost bound (`answer_cost`), refused unread by sympy
    TIMED_OUT = "timed_out"  # grading passed its deadline (set by `Grader`, never here)
    INVALID_CHOICE = "invalid_choice"  # a multiple-choice answer that is none of the choice ids


MESSAGES = {
    FeedbackCode.CORRECT: "Correct.",
    FeedbackCode.INCORRECT: "That is not correct.",
    FeedbackCode.NOT_SIMPLIFIED: "That is equal to the answer, but write it in simplest form.",
    FeedbackCode.SIGN_ERROR: "Check the sign: that is the negative of the answer.",
    FeedbackCode.PARTIAL_SOLUTION_SET: "Some of that is right, but the solutions do not match.",
    FeedbackCode.WRONG_VARIABLE: "Check the variable: the question uses a different one.",
    FeedbackCode.EMPTY_ANSWER: "Type an answer first.",
    FeedbackCode.TOO_LONG: "That answer is too long.",
    FeedbackCode.UNPARSEABLE: "That answer could not be read.",
    FeedbackCode.TOO_COMPLEX: "That answer is too complicated to check; simplify it first.",
    FeedbackCode.TIMED_OUT: "That answer took too long to check.",
    FeedbackCode.INVALID_CHOICE: "Pick one of the choices.",
}


@dataclass(frozen=True, slots=True)
class AnswerKey:
    type: ItemType
    answer: str  # the key string in one of the answer formats
    policy: AnswerPolicy
    tolerance: float | None = None
    choice_ids: tuple[str, ...] = ()

    @property
    def is_choice(self) -> bool:
        return self.policy is AnswerPolicy.CHOICE or self.type is ItemType.MULTIPLE_CHOICE

    @property
    def is_set(self) -> bool:
        """Graded as a solution set."""
        return self.policy is AnswerPolicy.SOLUTION_SET or self.type is ItemType.EQUATION


@dataclass(frozen=True, slots=True)
class Grade:
    correct: bool
    feedback_code: str  # a FeedbackCode value
    message: str = ""  # one short sentence a student can read


class InvalidKey(ValueError):
    """An item's key that cannot be read: the item is at fault, not the student."""


def verdict(code: FeedbackCode, message: str = "") -> Grade:
    return Grade(code is FeedbackCode.CORRECT, code.value, message or MESSAGES[code])


def too_complex(answer: str, key: AnswerKey, *, max_length: int, max_weight: int) -> bool:
    """Whether the cost bound refuses `answer`; cheap (no sympy), and unreadable is not refused."""
    if key.is_choice:
        return False
    text = answer.strip()
    if key.type is ItemType.NUMERIC:
        text = without_thousands_commas(text)
    return answer_cost.exceeds(text, max_length=max_length, max_weight=max_weight)


def without_thousands_commas(text: str) -> str:
    digits = text.replace(",", "")
    groups = text.lstrip("+-\u2212").split(".")[0].split(",")
    thousands = len(groups) > 1 and 1 <= len(groups[0]) <= 3
    if thousands and all(len(g) == 3 and g.isdigit() for g in groups[1:]) and groups[0].isdigit():
        return digits
    return text
