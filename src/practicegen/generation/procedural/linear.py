"""Linear equations solved by inverse operations: one step, two steps, variables on both sides.

Each builder picks the solution first and writes the equation around it, so the key is exact.
Levels add negatives, fractional coefficients and fractional solutions.
"""

from __future__ import annotations

from fractions import Fraction
from random import Random

from practicegen.generation.procedural import distractors as d
from practicegen.generation.procedural.base import CheckKind, Draft, Step
from practicegen.generation.procedural.render import (
    linear,
    num_latex,
    num_plain,
    pick,
    poly,
    signed,
)
from practicegen.generation.procedural.steps import (
    eq_step,
    equation_draft,
    pair,
    solve_stem,
    solved,
)
from practicegen.ports import AnswerPolicy, ItemType


def _move_constant(b: int) -> str:
    return f"Subtract ${b}$ from both sides" if b > 0 else f"Add ${-b}$ to both sides"


def _one_step_add(rng: Random, negatives: bool) -> Draft:
    x = signed(rng, 1, 20) if negatives else pick(rng, 1, 20)
    a = signed(rng, 2, 20) if negatives else pick(rng, 2, 20)
    if negatives and x > 0 and a > 0:
        x = -x
    problem = f"{linear(1, a)[0]} = {x + a}", f"{linear(1, a)[1]} = {x + a}"
    wrong_op = d.ADDED_INSTEAD_OF_SUBTRACTED if a > 0 else d.SUBTRACTED_INSTEAD_OF_ADDED
    return equation_draft(
        problem=problem,
        value=x,
        steps=[solved(_move_constant(a), "x", x)],
        hints=[
            "Undo what is done to $x$ with the inverse operation.",
            f"{_move_constant(a)} of the equation.",
        ],
        candidates=[
            d.solution_wrong("x", x + 2 * a, wrong_op),
            d.solution_wrong("x", -x, d.SIGN_ERROR),
        ],
    )


def _one_step_mul(rng: Random, negatives: bool) -> Draft:
    a = signed(rng, 2, 12) if negatives else pick(rng, 2, 12)
    x = signed(rng, 1, 12) if negatives else pick(rng, 1, 12)
    if negatives and x > 0 and a > 0:
        x = -x
    problem = f"{a}x = {a * x}", f"{a}*x = {a * x}"
    return equation_draft(
        problem=problem,
        value=x,
        steps=[solved(f"Divide both sides by ${a}$", "x", x)],
        hints=[
            "$x$ is multiplied by a number; undo the multiplication.",
            f"Divide both sides by ${a}$.",
        ],
        candidates=[
            d.solution_wrong("x", a * x - a, d.WRONG_INVERSE_OPERATION),
            d.solution_wrong("x", a * a * x, d.MULTIPLIED_INSTEAD_OF_DIVIDED),
            d.solution_wrong("x", -x, d.SIGN_ERROR),
        ],
    )


def _one_step_div(rng: Random, negatives: bool) -> Draft:
    a = signed(rng, 2, 9) if negatives else pick(rng, 2, 9)
    q = signed(rng, 1, 12) if negatives else pick(rng, 1, 12)
    if negatives and q > 0 and a > 0:
        q = -q
    x = a * q
    plain_a = f"({a})" if a < 0 else str(a)
    problem = f"\\frac{{x}}{{{a}}} = {q}", f"x/{plain_a} = {q}"
    return equation_draft(
        problem=problem,
        value=x,
        steps=[solved(f"Multiply both sides by ${a}$", "x", x)],
        hints=[
            "$x$ is divided by a number; undo the division.",
            f"Multiply both sides by ${a}$.",
        ],
        candidates=[
            d.solution_wrong("x", Fraction(q, a), d.DIVIDED_INSTEAD_OF_MULTIPLIED),
            d.solution_wrong("x", q + a, d.WRONG_INVERSE_OPERATION),
            d.solution_wrong("x", -x, d.SIGN_ERROR),
        ],
    )


def _one_step_fraction(rng: Random) -> Draft:
    den = pick(rng, 2, 7)
    num = rng.choice([n for n in range(2, den + 5) if n != den and Fraction(n, den).numerator == n])
    coef = Fraction(num, den) * rng.choice((1, -1))
    rhs = num * signed(rng, 1, 6) if rng.random() < 0.6 else signed(rng, 1, 12)
    x = Fraction(rhs) / coef
    problem = f"{linear(coef, 0)[0]} = {rhs}", f"{linear(coef, 0)[1]} = {rhs}"
    reciprocal = 1 / coef
    return equation_draft(
        problem=problem,
        value=x,
        steps=[solved(f"Multiply both sides by the reciprocal ${num_latex(reciprocal)}$", "x", x)],
        hints=[
            "$x$ is multiplied by a fraction; undo it with the reciprocal.",
            f"Multiply both sides by ${num_latex(reciprocal)}$.",
        ],
        candidates=[
            d.solution_wrong("x", rhs * coef, d.INVERTED_FRACTION),
            d.solution_wrong("x", rhs - coef, d.WRONG_INVERSE_OPERATION),
            d.solution_wrong("x", -x, d.SIGN_ERROR),
        ],
    )


def one_step(rng: Random, level: int) -> Draft:
    if level == 1:
        return _one_step_add(rng, negatives=False)
    if level == 2:
        return rng.choice((_one_step_mul, _one_step_div))(rng, False)
    if level == 3:
        return rng.choice((_one_step_add, _one_step_mul, _one_step_div))(rng, True)
    return _one_step_fraction(rng)


def _two_step_solution(rng: Random, level: int, a: int) -> Fraction:
    if level == 1:
        return Fraction(pick(rng, 1, 10))
    if level == 2:
        return Fraction(signed(rng, 1, 10))
    return Fraction(signed(rng, 1, 3 * abs(a) + 4), abs(a))


def two_step(rng: Random, level: int) -> Draft:
    """a*x + b = c; level 3 has fractional solutions, level 4 writes it as b - a*x = c."""
    a = pick(rng, 2, 9) if level == 1 else signed(rng, 2, 9)
    b = pick(rng, 1, 20) if level == 1 else signed(rng, 1, 20)
    if level == 4:
        a = -abs(a)
    x = _two_step_solution(rng, level, a)
    c = a * x + b
    lhs = poly([(b, ""), (a, "x")]) if level == 4 else linear(a, b)
    steps = [
        eq_step(_move_constant(b), linear(a, 0), pair(c - b)),
        solved(f"Divide both sides by ${a}$", "x", x),
    ]
    return equation_draft(
        problem=(f"{lhs[0]} = {num_latex(c)}", f"{lhs[1]} = {num_plain(c)}"),
        value=x,
        steps=steps,
        hints=[
            "Undo the operations on $x$ in reverse order: addition or subtraction first, "
            "then multiplication or division.",
            f"{_move_constant(b)} first.",
            f"Then divide both sides by ${a}$.",
        ],
        candidates=[
            d.solution_wrong("x", c / a - b, d.WRONG_OPERATION_ORDER),
            d.solution_wrong("x", (c + b) / a, d.ADDED_INSTEAD_OF_SUBTRACTED),
            d.solution_wrong("x", -x, d.SIGN_ERROR),
            d.solution_wrong("x", c - b, d.STOPPED_EARLY),
        ],
    )


def _both_sides_coefficients(rng: Random, level: int) -> tuple[int, int]:
    if level == 1:
        c = pick(rng, 1, 6)
        return c + pick(rng, 1, 5), c
    a, c = signed(rng, 1, 9), signed(rng, 1, 9)
    while a == c or (abs(a) == 1 and abs(c) == 1):
        a, c = signed(rng, 1, 9), signed(rng, 1, 9)
    return a, c


NO_SOLUTION_NOTE = "\n\nIf no value of $x$ works, answer *no solution*."


def _no_solution(rng: Random) -> Draft:
    a = signed(rng, 2, 9)
    b, e = signed(rng, 1, 15), signed(rng, 1, 15)
    while e == b:
        e = signed(rng, 1, 15)
    lhs, rhs = linear(a, b), linear(a, e)
    return Draft(
        kind=CheckKind.EQUATION,
        item_type=ItemType.EQUATION,
        policy=AnswerPolicy.SOLUTION_SET,
        stem=solve_stem(f"{lhs[0]} = {rhs[0]}") + NO_SOLUTION_NOTE,
        problem=f"{lhs[1]} = {rhs[1]}",
        answer="no solution",
        answer_latex="\\text{no solution}",
        steps=(
            Step(_move_term(a), f"{b} = {e}", f"{b} = {e}"),
            Step("The statement is false for every $x$", "\\text{no solution}", "no solution"),
        ),
        hints=(
            "Collect the $x$ terms on one side.",
            "Look at what is left once the $x$ terms are gone.",
        ),
        wrongs=(d.solution_wrong("x", 0, d.STOPPED_EARLY)[1],),
    )


def both_sides(rng: Random, level: int) -> Draft:
    """a*x + b = c*x + e; level 3 sometimes has no solution or a fractional one."""
    if level == 3 and rng.random() < 0.2:
        return _no_solution(rng)
    a, c = _both_sides_coefficients(rng, level)
    k = a - c
    if level == 3 and abs(k) > 1:
        x = Fraction(signed(rng, 1, 2 * abs(k) + 6), abs(k))
    else:
        x = Fraction(pick(rng, 1, 10) if level == 1 else signed(rng, 1, 10))
    b = pick(rng, 1, 12) if level == 1 else signed(rng, 1, 15)
    e = k * x + b
    lhs, rhs = linear(a, b), linear(c, e)
    steps = [eq_step(_move_term(c), linear(k, b), pair(e))]
    if k == 1:
        steps.append(solved(_move_constant(b), "x", x))
    else:
        steps.append(eq_step(_move_constant(b), linear(k, 0), pair(e - b)))
        steps.append(solved(f"Divide both sides by ${k}$", "x", x))
    note = NO_SOLUTION_NOTE if level == 3 else ""
    return equation_draft(
        problem=(f"{lhs[0]} = {rhs[0]}", f"{lhs[1]} = {rhs[1]}"),
        stem=solve_stem(f"{lhs[0]} = {rhs[0]}") + note,
        value=x,
        steps=steps,
        hints=[
            "Collect the $x$ terms on one side and the numbers on the other.",
            f"{_move_term(c)}.",
            f"Then get the number term away from ${linear(k, 0)[0]}$.",
        ],
        candidates=[
            d.solution_wrong("x", (e - b) / (a + c), d.MOVED_TERM_WITHOUT_SIGN_CHANGE)
            if a + c
            else d.solution_wrong("x", x + 1, d.ARITHMETIC_SLIP),
            d.solution_wrong("x", (e + b) / k, d.ADDED_INSTEAD_OF_SUBTRACTED),
            d.solution_wrong("x", -x, d.SIGN_ERROR),
        ],
    )


def _move_term(c: int) -> str:
    term = linear(abs(c), 0)[0]
    return f"Subtract ${term}$ from both sides" if c > 0 else f"Add ${term}$ to both sides"
