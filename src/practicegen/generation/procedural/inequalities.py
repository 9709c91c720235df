"""Linear inequalities in one variable: the new idea is flipping the sign for a negative divisor.

The key is written `x > 4`; the check compares solution sets, so `4 < x` is the same answer.
"""

from __future__ import annotations

from fractions import Fraction
from random import Random

from practicegen.generation.procedural import distractors as d
from practicegen.generation.procedural.base import CheckKind, Draft, Step, Wrong
from practicegen.generation.procedural.render import Number, Pair, linear, pair, pick, signed
from practicegen.generation.procedural.steps import Candidate, draft, move, solution
from practicegen.grading.solutions import FLIPPED
from practicegen.ports import AnswerPolicy, ItemType

OPS = (">", "<", ">=", "<=")
LATEX = {">": ">", "<": "<", ">=": "\\ge", "<=": "\\le"}


def _rel(lhs: Pair, op: str, rhs: Pair) -> Pair:
    return f"{lhs[0]} {LATEX[op]} {rhs[0]}", f"{lhs[1]} {op} {rhs[1]}"


def _answer(op: str, value: Number) -> Pair:
    return _rel(("x", "x"), op, pair(value))


def _wrong(op: str, value: Number, tag: str) -> Candidate:
    return (op, Fraction(value)), Wrong.of(_answer(op, value), tag)


def _flip_wrong(final_op: str, x: Fraction, k: int) -> Candidate:
    """The solution with the sign unflipped for a negative k, or flipped for a positive one."""
    tag = "forgot_to_flip_inequality" if k < 0 else d.FLIPPED_INEQUALITY_NEEDLESSLY
    return _wrong(FLIPPED[final_op], x, tag)


def _divide_step(k: int, op: str, value: Fraction) -> Step:
    if k < 0:
        text = f"Divide both sides by ${k}$ and flip the inequality sign (dividing by a negative)"
        op = FLIPPED[op]
    else:
        text = f"Divide both sides by ${k}$"
    return Step(text, *_answer(op, value))


def _draft(
    problem: Pair,
    op: str,
    value: Fraction,
    steps: list[Step],
    hints: list[str],
    candidates: list[Candidate],
    multiple_choice: bool,
) -> Draft:
    tail = "\n\nChoose the correct solution." if multiple_choice else ""
    return draft(
        (CheckKind.INEQUALITY, ItemType.EQUATION, AnswerPolicy.SOLUTION_SET),
        stem=f"Solve the inequality for $x$: ${problem[0]}$" + tail,
        problem=problem[1],
        answer=_answer(op, value),
        key=(op, value),
        steps=steps,
        hints=hints,
        candidates=candidates,
        top_up=(lambda i: _wrong(OPS[i % 4] if i < 4 else op, value + i // 4, d.ARITHMETIC_SLIP))
        if multiple_choice
        else None,
        multiple_choice=multiple_choice,
    )


def one_step(rng: Random, level: int) -> Draft:
    """x + a > b; a*x > b; at level 3 the coefficient is negative and the sign flips."""
    op = rng.choice(OPS)
    if level == 1:
        a, x = pick(rng, 2, 15), Fraction(pick(rng, 1, 15))
        candidates = [
            _wrong(op, x + 2 * a, d.ADDED_INSTEAD_OF_SUBTRACTED),
            _wrong(FLIPPED[op], x, d.FLIPPED_INEQUALITY_NEEDLESSLY),
        ]
        hints = ["Solve it like an equation, keeping the inequality sign.", f"{move(a)}."]
        problem = _rel(linear(1, a), op, pair(x + a))
        return _draft(problem, op, x, [Step(move(a), *_answer(op, x))], hints, candidates, False)
    k = pick(rng, 2, 9) * (-1 if level == 3 else 1)
    x = solution(rng, level, k, 3 * abs(k) + 2 if level == 3 else 0)
    rhs = k * x
    final_op = FLIPPED[op] if k < 0 else op
    candidates = [
        _flip_wrong(final_op, x, k),
        _wrong(final_op, -x, d.SIGN_ERROR),
        _wrong(final_op, rhs - k, d.WRONG_INVERSE_OPERATION),
        _wrong(final_op, rhs * k, d.MULTIPLIED_INSTEAD_OF_DIVIDED),
    ]
    hints = [
        "Divide both sides by the coefficient of $x$.",
        "When you multiply or divide both sides by a negative number, the inequality sign flips.",
    ]
    problem, multiple_choice = _rel(linear(k, 0), op, pair(rhs)), rng.random() < 0.5
    return _draft(
        problem, final_op, x, [_divide_step(k, op, x)], hints, candidates, multiple_choice
    )


def two_step(rng: Random, level: int) -> Draft:
    """a*x + b > c, then with negatives, then with x on both sides (level 3)."""
    op = rng.choice(OPS)
    a = pick(rng, 2, 9) if level == 1 else signed(rng, 2, 9)
    c = 0 if level < 3 else signed(rng, 1, 9)
    while c == a:
        c = signed(rng, 1, 9)
    k = a - c
    x = solution(rng, level, k, 3 * abs(k) + 2 if level == 3 else 0)
    b = pick(rng, 1, 15) if level == 1 else signed(rng, 1, 15)
    e = k * x + b
    steps = [Step(move(c, "x"), *_rel(linear(k, b), op, pair(e)))] if c else []
    steps.append(Step(move(b), *_rel(linear(k, 0), op, pair(e - b))))
    if k != 1:
        steps.append(_divide_step(k, op, x))
    final_op = FLIPPED[op] if k < 0 else op
    candidates = [
        _flip_wrong(final_op, x, k),
        _wrong(final_op, (e + b) / k, d.ADDED_INSTEAD_OF_SUBTRACTED),
        _wrong(final_op, -x, d.SIGN_ERROR),
    ]
    hints = [
        "Solve it like an equation: collect the $x$ terms, then undo addition and division.",
        f"{move(b)}.",
        "If you divide by a negative number, flip the inequality sign.",
    ]
    problem = _rel(linear(a, b), op, linear(c, e))
    return _draft(problem, final_op, x, steps, hints, candidates, multiple_choice=False)
