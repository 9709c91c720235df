"""Linear inequalities in one variable, where the new idea is flipping the sign when
multiplying or dividing by a negative number.

The key is written `x > 4`, `x <= -7/3`; the check compares solution sets, so `4 < x` is the
same answer.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from fractions import Fraction
from random import Random

from practicegen.generation.procedural import distractors as d
from practicegen.generation.procedural.base import CheckKind, Draft, Step, Wrong
from practicegen.generation.procedural.render import (
    Number,
    Pair,
    linear,
    num_latex,
    num_plain,
    pick,
    signed,
)
from practicegen.ports import AnswerPolicy, ItemType

OPS = (">", "<", ">=", "<=")
LATEX = {">": ">", "<": "<", ">=": "\\ge", "<=": "\\le"}
FLIP = {">": "<", "<": ">", ">=": "<=", "<=": ">="}


def _rel(lhs: Pair, op: str, rhs: Pair) -> tuple[str, str]:
    return f"{lhs[0]} {LATEX[op]} {rhs[0]}", f"{lhs[1]} {op} {rhs[1]}"


def _answer(op: str, value: Number) -> tuple[str, str]:
    return _rel(("x", "x"), op, (num_latex(value), num_plain(value)))


def _wrong(op: str, value: Number, tag: str) -> tuple[Hashable, Wrong]:
    latex, plain = _answer(op, value)
    return (op, Fraction(value)), Wrong(plain, latex, tag)


def _divide_step(k: int, op: str, value: Fraction) -> Step:
    if k < 0:
        text = f"Divide both sides by ${k}$ and flip the inequality sign (dividing by a negative)"
        op = FLIP[op]
    else:
        text = f"Divide both sides by ${k}$"
    latex, plain = _answer(op, value)
    return Step(text, latex, plain)


def _draft(
    problem: tuple[str, str],
    op: str,
    value: Fraction,
    steps: Sequence[Step],
    hints: Sequence[str],
    candidates: Sequence[tuple[Hashable, Wrong]],
    multiple_choice: bool,
) -> Draft:
    latex, plain = _answer(op, value)
    top_up = None
    if multiple_choice:

        def top_up(i: int) -> tuple[Hashable, Wrong]:
            other = OPS[i % 4] if i < 4 else op
            return _wrong(other, value + (i // 4), d.ARITHMETIC_SLIP)

    tail = "\n\nChoose the correct solution." if multiple_choice else ""
    return Draft(
        kind=CheckKind.INEQUALITY,
        item_type=ItemType.EQUATION,
        policy=AnswerPolicy.SOLUTION_SET,
        stem=f"Solve the inequality for $x$: ${problem[0]}$" + tail,
        problem=problem[1],
        answer=plain,
        answer_latex=latex,
        steps=tuple(steps),
        hints=tuple(hints),
        wrongs=d.select((op, value), candidates, top_up=top_up),
        multiple_choice=multiple_choice,
    )


def _boundary(rng: Random, k: int, fractional: bool) -> Fraction:
    if fractional and abs(k) > 1:
        return Fraction(signed(rng, 1, 3 * abs(k) + 2), abs(k))
    return Fraction(signed(rng, 1, 10))


def one_step(rng: Random, level: int) -> Draft:
    """x + a > b; a*x > b; at level 3 the coefficient is negative and the sign flips."""
    op = rng.choice(OPS)
    if level == 1:
        a, x = pick(rng, 2, 15), Fraction(pick(rng, 1, 15))
        rhs = x + a
        move = f"Subtract ${a}$ from both sides"
        steps = [Step(move, *_answer(op, x))]
        problem = _rel(linear(1, a), op, (num_latex(rhs), num_plain(rhs)))
        candidates = [
            _wrong(op, rhs + a, d.ADDED_INSTEAD_OF_SUBTRACTED),
            _wrong(FLIP[op], x, d.FLIPPED_INEQUALITY_NEEDLESSLY),
        ]
        hints = ["Solve it like an equation, keeping the inequality sign.", f"{move}."]
        return _draft(problem, op, x, steps, hints, candidates, multiple_choice=False)
    k = pick(rng, 2, 9) * (-1 if level == 3 else 1)
    x = _boundary(rng, k, fractional=level == 3)
    rhs = k * x
    final_op = FLIP[op] if k < 0 else op
    problem = _rel(linear(k, 0), op, (num_latex(rhs), num_plain(rhs)))
    candidates = [
        _wrong(
            op if k < 0 else FLIP[op],
            x,
            d.FORGOT_TO_FLIP_INEQUALITY if k < 0 else d.FLIPPED_INEQUALITY_NEEDLESSLY,
        ),
        _wrong(final_op, -x, d.SIGN_ERROR),
        _wrong(final_op, rhs - k, d.WRONG_INVERSE_OPERATION),
        _wrong(final_op, rhs * k, d.MULTIPLIED_INSTEAD_OF_DIVIDED),
    ]
    hints = [
        "Divide both sides by the coefficient of $x$.",
        "When you multiply or divide both sides by a negative number, the inequality sign flips.",
    ]
    return _draft(
        problem,
        final_op,
        x,
        [_divide_step(k, op, x)],
        hints,
        candidates,
        multiple_choice=level >= 2 and rng.random() < 0.5,
    )


def two_step(rng: Random, level: int) -> Draft:
    """a*x + b > c, then with negatives, then with x on both sides (level 3)."""
    op = rng.choice(OPS)
    a = pick(rng, 2, 9) if level == 1 else signed(rng, 2, 9)
    c = 0 if level < 3 else signed(rng, 1, 9)
    while c == a:
        c = signed(rng, 1, 9)
    k = a - c
    x = _boundary(rng, k, fractional=level == 3) if level > 1 else Fraction(pick(rng, 1, 10))
    b = pick(rng, 1, 15) if level == 1 else signed(rng, 1, 15)
    e = k * x + b
    lhs, rhs = linear(a, b), linear(c, e)
    steps = []
    if c:
        word = f"Subtract ${linear(c, 0)[0]}$ from" if c > 0 else f"Add ${linear(-c, 0)[0]}$ to"
        steps.append(
            Step(f"{word} both sides", *_rel(linear(k, b), op, (num_latex(e), num_plain(e))))
        )
    move = f"Subtract ${b}$ from both sides" if b > 0 else f"Add ${-b}$ to both sides"
    steps.append(Step(move, *_rel(linear(k, 0), op, (num_latex(e - b), num_plain(e - b)))))
    final_op = op
    if k != 1:
        steps.append(_divide_step(k, op, x))
        final_op = FLIP[op] if k < 0 else op
    candidates = [
        _wrong(
            FLIP[final_op],
            x,
            d.FORGOT_TO_FLIP_INEQUALITY if k < 0 else d.FLIPPED_INEQUALITY_NEEDLESSLY,
        ),
        _wrong(final_op, (e + b) / k, d.ADDED_INSTEAD_OF_SUBTRACTED),
        _wrong(final_op, -x, d.SIGN_ERROR),
    ]
    hints = [
        "Solve it like an equation: collect the $x$ terms, then undo addition and division.",
        f"{move}.",
        "If you divide by a negative number, flip the inequality sign.",
    ]
    problem = _rel(lhs, op, rhs)
    return _draft(problem, final_op, x, steps, hints, candidates, multiple_choice=False)
