"""The cost bound: weights as written, and no honest answer of the demo bank near the bound."""

from __future__ import annotations

import time
from fractions import Fraction

import pytest

from practicegen.generation.demo_bank import build_demo_items
from practicegen.grading import answers
from practicegen.grading.answer_cost import DEFAULT_MAX_WEIGHT, exceeds, weight

SLOW = "2x+3+(x+1)^100(x-1)^100-(x^2-1)^100"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7", 0),
        ("3x^2 - 5x + 2", 3),
        ("(x+1)(x-1)", 2),
        ("x = 2 or x = -3", 2),
        ("(x+1)^100", 100),
        (SLOW, 401),
        ("x^(1/2)", Fraction(1, 2)),
        ("x^(2^10)", 1024),
        ("x^-3", 3),
        ("sqrt(x^4) + abs(y)", 5),
        ("2^x", 1),
        ("x^x", 3),
        ("x^(10^100)", 10**6),  # saturated: far past any bound, never computed
    ],
)
def test_weights_are_degrees_as_written(text: str, expected: int | Fraction) -> None:
    assert weight(answers.read(text)) == expected


def test_the_slow_expression_is_refused_at_once() -> None:
    started = time.perf_counter()
    assert exceeds(SLOW, max_length=200, max_weight=DEFAULT_MAX_WEIGHT)
    assert time.perf_counter() - started < 0.05
    assert not exceeds(SLOW, max_length=200, max_weight=401)
    assert not exceeds("9**9**9 +", max_length=200, max_weight=1)  # unreadable: grading says why


def test_every_demo_bank_answer_and_choice_is_far_under_the_bound() -> None:
    heaviest = Fraction(0)
    for item in build_demo_items():
        texts = [item.answer, *(choice.text for choice in item.choices)]
        for text in texts:
            try:
                heaviest = max(heaviest, weight(answers.read(text, max_length=1000)))
            except answers.AnswerError:
                continue  # a choice in words
    assert 0 < heaviest <= DEFAULT_MAX_WEIGHT / 4
