"""The Pythagorean theorem: a right triangle's hypotenuse from its legs, or a leg from the rest.

Level 3 answers are in simplest radical form, graded as equivalent so `sqrt(52)` also counts.
"""

from __future__ import annotations

from fractions import Fraction
from functools import partial
from math import isqrt
from random import Random

from practicegen.generation.procedural import distractors as d
from practicegen.generation.procedural.base import CheckKind, Draft, Step, Wrong
from practicegen.generation.procedural.render import pick, radical
from practicegen.generation.procedural.steps import Candidate, draft
from practicegen.ports import AnswerPolicy, ItemType


def _is_square(n: int) -> bool:
    return isqrt(n) ** 2 == n


# Every right triangle with whole sides and a hypotenuse up to 100, as (a, b, c) with a < b.
TRIPLES = tuple(
    (a, b, isqrt(a * a + b * b))
    for a in range(3, 100)
    for b in range(a + 1, 100)
    if _is_square(a * a + b * b) and a * a + b * b <= 100 * 100
)
SMALL_TRIPLES = tuple(t for t in TRIPLES if t[2] <= 30)
LARGE_TRIPLES = tuple(t for t in TRIPLES if t[2] > 30)


def _wrong(square: int, tag: str) -> Candidate:
    """A wrong length given by its square, so lengths compare exactly."""
    return Fraction(square), Wrong.of(radical(square), tag)


def _triangle(rng: Random, level: int, want_leg: bool) -> tuple[int, int, int]:
    """(a, b, c) with a^2 + b^2 = c^2; at level 3 the unknown side is irrational."""
    if level < 3:
        a, b, c = rng.choice(SMALL_TRIPLES if level == 1 else LARGE_TRIPLES)
        return (b, a, c) if rng.random() < 0.5 else (a, b, c)
    while True:
        a, b = pick(rng, 2, 12), pick(rng, 2, 12)
        if want_leg:
            c = pick(rng, max(a, b) + 1, 16)
            if not _is_square(c * c - a * a):
                return a, isqrt(c * c - a * a), c
        elif not _is_square(a * a + b * b):
            return a, b, isqrt(a * a + b * b)


Question = tuple[str, str, Step, list[str], list[Candidate]]  # text, problem, formula, hints


def _question(a: int, b: int, c: int, want_leg: bool) -> Question:
    """The words, problem, first step, hints and wrong answers for the side asked for."""
    if want_leg:
        question = (
            f"A right triangle has a hypotenuse of length ${c}$ and one leg of length ${a}$. "
            "How long is the other leg?"
        )
        formula = Step(
            "Use $b^2 = c^2 - a^2$", f"b = \\sqrt{{{c}^2 - {a}^2}}", f"sqrt({c}**2 - {a}**2)"
        )
        hints = [
            "The hypotenuse is the longest side: $a^2 + b^2 = c^2$.",
            f"The missing leg squared is ${c}^2 - {a}^2$.",
        ]
        candidates = [
            _wrong(c * c + a * a, "added_squares_for_a_leg"),
            _wrong((c - a) ** 2, "subtracted_sides_without_squaring"),
            _wrong((c * c - a * a) ** 2, d.FORGOT_SQUARE_ROOT),
        ]
        return question, f"leg({c}, {a})", formula, hints, candidates
    question = f"A right triangle has legs of length ${a}$ and ${b}$. How long is the hypotenuse?"
    formula = Step(
        "Use $c^2 = a^2 + b^2$", f"c = \\sqrt{{{a}^2 + {b}^2}}", f"sqrt({a}**2 + {b}**2)"
    )
    hints = [
        "In a right triangle, the square of the hypotenuse equals the sum of the squares "
        "of the legs.",
        f"Compute ${a}^2 + {b}^2$.",
    ]
    candidates = [
        _wrong((a + b) ** 2, "added_legs_without_squaring"),
        _wrong((a * a + b * b) ** 2, d.FORGOT_SQUARE_ROOT),
    ]
    if a != b:
        candidates.append(_wrong(abs(a * a - b * b), "subtracted_squares_for_the_hypotenuse"))
    return question, f"hypotenuse({a}, {b})", formula, hints, candidates


def _side(rng: Random, level: int, want_leg: bool) -> Draft:
    """The hypotenuse or a leg, in simplest radical form; multiple choice by chance."""
    a, b, c = _triangle(rng, level, want_leg)
    if want_leg:
        square, side, combine, chance = c * c - a * a, "b", "Subtract the squares", 0.4
    else:
        square, side, combine, chance = a * a + b * b, "c", "Add the squares", 0.5
    question, problem, formula, hints, candidates = _question(a, b, c, want_leg)
    multiple_choice = rng.random() < chance
    return draft(
        (CheckKind.VALUE, ItemType.NUMERIC, AnswerPolicy.EQUIVALENT),
        stem=question + (" Give an exact answer in simplest radical form." if level == 3 else ""),
        problem=problem,
        answer=radical(square),
        key=Fraction(square),
        steps=[
            formula,
            Step(combine, f"{side} = \\sqrt{{{square}}}", f"sqrt({square})"),
            Step("Take the square root", *radical(square)),
        ],
        hints=[
            *hints,
            "Take the square root and simplify it." if level == 3 else "Take the square root.",
        ],
        candidates=candidates,
        top_up=(lambda i: _wrong((isqrt(square) + i + 1) ** 2, d.ARITHMETIC_SLIP))
        if multiple_choice
        else None,
        multiple_choice=multiple_choice,
    )


hypotenuse = partial(_side, want_leg=False)
leg = partial(_side, want_leg=True)
