"""Linear equations solved by inverse operations: one step, two steps, variables on both sides.

Each builder picks the solution first and writes the equation around it, so the key is exact.
"""

from __future__ import annotations

from fractions import Fraction
from random import Random

from practicegen.generation.procedural import distractors as d
from practicegen.generation.procedural import render
from practicegen.generation.procedural.base import CheckKind, Draft, Step, Wrong
from practicegen.generation.procedural.steps import (
    draft,
    eq_step,
    equation_draft,
    isolate,
    move,
    solution,
    solve_stem,
    solved,
)
from practicegen.ports import AnswerPolicy, ItemType

NO_SOLUTION_NOTE = "\n\nIf no value of $x$ works, answer *no solution*."


def _number(rng: Random, negatives: bool, lo: int, hi: int) -> int:
    return render.signed(rng, lo, hi) if negatives else render.pick(rng, lo, hi)


def _one_step(
    problem: render.Pair,
    x: render.Number,
    step: str,
    hints: list[str],
    wrongs: list[tuple[render.Number, str]],
) -> Draft:
    """Undo one operation; flipping the solution's sign is always among the wrong answers."""
    return equation_draft(
        problem=problem,
        value=x,
        steps=[solved(step, "x", x)],
        hints=hints,
        candidates=[*wrongs, (-x, d.SIGN_ERROR)],
    )


def _one_step_add(rng: Random, negatives: bool) -> Draft:
    x, a = _number(rng, negatives, 1, 20), _number(rng, negatives, 2, 20)
    if negatives and x > 0 and a > 0:
        x = -x
    wrong_op = d.ADDED_INSTEAD_OF_SUBTRACTED if a > 0 else d.SUBTRACTED_INSTEAD_OF_ADDED
    return _one_step(
        render.equals(render.linear(1, a), render.pair(x + a)),
        x,
        move(a),
        ["Undo what is done to $x$ with the inverse operation.", f"{move(a)} of the equation."],
        [(x + 2 * a, wrong_op)],
    )


def _one_step_mul(rng: Random, negatives: bool) -> Draft:
    a, x = _number(rng, negatives, 2, 12), _number(rng, negatives, 1, 12)
    if negatives and x > 0 and a > 0:
        x = -x
    return _one_step(
        (f"{a}x = {a * x}", f"{a}*x = {a * x}"),
        x,
        f"Divide both sides by ${a}$",
        ["$x$ is multiplied by a number; undo the multiplication.", f"Divide both sides by ${a}$."],
        [(a * x - a, d.WRONG_INVERSE_OPERATION), (a * a * x, d.MULTIPLIED_INSTEAD_OF_DIVIDED)],
    )


def _one_step_div(rng: Random, negatives: bool) -> Draft:
    a, q = _number(rng, negatives, 2, 9), _number(rng, negatives, 1, 12)
    if negatives and q > 0 and a > 0:
        q = -q
    plain_a = f"({a})" if a < 0 else str(a)
    return _one_step(
        (f"\\frac{{x}}{{{a}}} = {q}", f"x/{plain_a} = {q}"),
        a * q,
        f"Multiply both sides by ${a}$",
        ["$x$ is divided by a number; undo the division.", f"Multiply both sides by ${a}$."],
        [(Fraction(q, a), d.DIVIDED_INSTEAD_OF_MULTIPLIED), (q + a, d.WRONG_INVERSE_OPERATION)],
    )


def _one_step_fraction(rng: Random) -> Draft:
    den = render.pick(rng, 2, 7)
    num = rng.choice([n for n in range(2, den + 5) if n != den and Fraction(n, den).numerator == n])
    coef = Fraction(num, den) * rng.choice((1, -1))
    rhs = num * render.signed(rng, 1, 6) if rng.random() < 0.6 else render.signed(rng, 1, 12)
    reciprocal = render.num_latex(1 / coef)
    return _one_step(
        render.equals(render.linear(coef, 0), render.pair(rhs)),
        Fraction(rhs) / coef,
        f"Multiply both sides by the reciprocal ${reciprocal}$",
        [
            "$x$ is multiplied by a fraction; undo it with the reciprocal.",
            f"Multiply both sides by ${reciprocal}$.",
        ],
        [(rhs * coef, d.INVERTED_FRACTION), (rhs - coef, d.WRONG_INVERSE_OPERATION)],
    )


def one_step(rng: Random, level: int) -> Draft:
    if level == 1:
        return _one_step_add(rng, negatives=False)
    if level == 2:
        return rng.choice((_one_step_mul, _one_step_div))(rng, False)
    if level == 3:
        return rng.choice((_one_step_add, _one_step_mul, _one_step_div))(rng, True)
    return _one_step_fraction(rng)


def two_step(rng: Random, level: int) -> Draft:
    """a*x + b = c; level 3 has fractional solutions, level 4 writes it as b - a*x = c."""
    a, b = _number(rng, level > 1, 2, 9), _number(rng, level > 1, 1, 20)
    if level == 4:
        a = -abs(a)
    x = solution(rng, level, a, 3 * abs(a) + 4 if level > 2 else 0)
    c = a * x + b
    lhs = render.poly([(b, ""), (a, "x")]) if level == 4 else render.linear(a, b)
    return equation_draft(
        problem=render.equals(lhs, render.pair(c)),
        value=x,
        steps=isolate(a, b, c, x),
        hints=[
            "Undo the operations on $x$ in reverse order: addition or subtraction first, "
            "then multiplication or division.",
            f"{move(b)} first.",
            f"Then divide both sides by ${a}$.",
        ],
        candidates=[
            (c / a - b, d.WRONG_OPERATION_ORDER),
            ((c + b) / a, d.ADDED_INSTEAD_OF_SUBTRACTED),
            (-x, d.SIGN_ERROR),
            (c - b, d.STOPPED_EARLY),
        ],
    )


def _both_sides_coefficients(rng: Random, level: int) -> tuple[int, int]:
    if level == 1:
        c = render.pick(rng, 1, 6)
        return c + render.pick(rng, 1, 5), c
    a, c = render.signed(rng, 1, 9), render.signed(rng, 1, 9)
    while a == c or (abs(a) == 1 and abs(c) == 1):
        a, c = render.signed(rng, 1, 9), render.signed(rng, 1, 9)
    return a, c


def _no_solution(rng: Random) -> Draft:
    a = render.signed(rng, 2, 9)
    b, e = render.signed(rng, 1, 15), render.signed(rng, 1, 15)
    while e == b:
        e = render.signed(rng, 1, 15)
    problem = render.equals(render.linear(a, b), render.linear(a, e))
    none = "\\text{no solution}", "no solution"
    return draft(
        (CheckKind.EQUATION, ItemType.EQUATION, AnswerPolicy.SOLUTION_SET),
        stem=solve_stem(problem[0]) + NO_SOLUTION_NOTE,
        problem=problem[1],
        answer=none,
        key=none,
        steps=[
            Step(move(a, "x"), f"{b} = {e}", f"{b} = {e}"),
            Step("The statement is false for every $x$", *none),
        ],
        hints=[
            "Collect the $x$ terms on one side.",
            "Look at what is left once the $x$ terms are gone.",
        ],
        candidates=[(0, Wrong("x = 0", "x = 0", d.STOPPED_EARLY))],
    )


def both_sides(rng: Random, level: int) -> Draft:
    """a*x + b = c*x + e; level 3 sometimes has no solution or a fractional one."""
    if level == 3 and rng.random() < 0.2:
        return _no_solution(rng)
    a, c = _both_sides_coefficients(rng, level)
    k = a - c
    x = solution(rng, level, k, 2 * abs(k) + 6 if level == 3 else 0)
    b = render.pick(rng, 1, 12) if level == 1 else render.signed(rng, 1, 15)
    e = k * x + b
    problem = render.equals(render.linear(a, b), render.linear(c, e))
    return equation_draft(
        problem=problem,
        stem=solve_stem(problem[0]) + (NO_SOLUTION_NOTE if level == 3 else ""),
        value=x,
        steps=[eq_step(move(c, "x"), render.linear(k, b), render.pair(e)), *isolate(k, b, e, x)],
        hints=[
            "Collect the $x$ terms on one side and the numbers on the other.",
            f"{move(c, 'x')}.",
            f"Then get the number term away from ${render.linear(k, 0)[0]}$.",
        ],
        candidates=[
            ((e - b) / (a + c), d.MOVED_TERM_WITHOUT_SIGN_CHANGE)
            if a + c
            else (x + 1, d.ARITHMETIC_SLIP),
            ((e + b) / k, d.ADDED_INSTEAD_OF_SUBTRACTED),
            (-x, d.SIGN_ERROR),
        ],
    )
