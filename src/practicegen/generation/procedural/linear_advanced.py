"""Linear equations that need a first move before inverse operations: distributing a factor
over parentheses, or clearing fractions with the least common denominator.
"""

from __future__ import annotations

from fractions import Fraction
from math import lcm
from random import Random

from practicegen.generation.procedural import distractors as d
from practicegen.generation.procedural import render
from practicegen.generation.procedural.base import Draft, Step
from practicegen.generation.procedural.steps import (
    eq_step,
    equation_draft,
    isolate,
    move,
    solution,
    solved,
)

MULTIPLIED_BY_WRONG_DENOMINATOR = "multiplied_by_wrong_denominator"


def _plus(expr: render.Pair, e: int) -> render.Pair:
    """expr + e, written with the sign of e."""
    if e == 0:
        return expr
    sign = "+" if e > 0 else "-"
    return f"{expr[0]} {sign} {abs(e)}", f"{expr[1]} {sign} {abs(e)}"


def _distribute_simple(rng: Random, level: int) -> Draft:
    """a(x + b) = c, or a(x + b) + e = c at level 2."""
    a = render.pick(rng, 2, 6) if level == 1 else render.signed(rng, 2, 6)
    b = render.pick(rng, 1, 9) if level == 1 else render.signed(rng, 1, 9)
    e = 0 if level == 1 else render.signed(rng, 1, 12)
    x = solution(rng, level, a)
    c = a * (x + b) + e
    bracket = render.group(a, render.linear(1, b))
    lhs = _plus(bracket, e)
    expanded = render.poly([(a, "x"), (a * b, ""), (e, "")])
    steps = [eq_step(f"Distribute ${a}$", expanded, render.pair(c))]
    if e:
        steps.append(
            eq_step("Combine the constant terms", render.linear(a, a * b + e), render.pair(c))
        )
    steps += isolate(a, a * b + e, c, x)
    return equation_draft(
        problem=render.equals(lhs, render.pair(c)),
        value=x,
        steps=steps,
        hints=[
            "Multiply the factor in front of the parentheses by every term inside.",
            f"Distributing turns ${bracket[0]}$ into ${render.linear(a, a * b)[0]}$.",
            "Then undo the addition or subtraction, and divide.",
        ],
        candidates=[
            (Fraction(c - e - b, a), d.FORGOT_TO_DISTRIBUTE),
            (Fraction(c - e + a * b, a), d.SIGN_ERROR),
            (-x, d.SIGN_ERROR),
        ],
    )


def _distribute_both(rng: Random) -> Draft:
    """a(x + b) = c(x + e)."""
    a, c = render.signed(rng, 2, 7), render.signed(rng, 2, 7)
    while a == c:
        c = render.signed(rng, 2, 7)
    k = a - c
    x = solution(rng, 3, k, 3 * abs(k) + 3)
    b = render.signed(rng, 1, 9)
    e_times_c = k * x + a * b  # c*e must equal this; pick x again until it divides
    while e_times_c % c != 0 or e_times_c == 0:
        x = solution(rng, 3, k, 3 * abs(k) + 3)
        e_times_c = k * x + a * b
    e = Fraction(e_times_c) / c
    lhs, rhs = render.group(a, render.linear(1, b)), render.group(c, render.linear(1, e))
    steps = [
        eq_step("Distribute on both sides", render.linear(a, a * b), render.linear(c, c * e)),
        eq_step(
            f"Collect the $x$ terms on the left ({'subtract' if c > 0 else 'add'} "
            f"${render.linear(abs(c), 0)[0]}$)",
            render.linear(k, a * b),
            render.pair(c * e),
        ),
        *isolate(k, a * b, c * e, x),
    ]
    return equation_draft(
        problem=render.equals(lhs, rhs),
        value=x,
        steps=steps,
        hints=[
            "Clear both sets of parentheses first.",
            f"Distributing gives ${render.linear(a, a * b)[0]} = {render.linear(c, c * e)[0]}$.",
            "Collect the $x$ terms on one side and the numbers on the other.",
        ],
        candidates=[
            (Fraction(e - b) / k, d.FORGOT_TO_DISTRIBUTE),
            ((c * e - a * b) / Fraction(a + c), d.MOVED_TERM_WITHOUT_SIGN_CHANGE)
            if a + c
            else (x + 1, d.ARITHMETIC_SLIP),
            (-x, d.SIGN_ERROR),
        ],
    )


def distribution(rng: Random, level: int) -> Draft:
    return _distribute_both(rng) if level == 3 else _distribute_simple(rng, level)


def _fraction_simple(rng: Random) -> Draft:
    """x/a + b = c with a whole-number solution."""
    a, b = render.pick(rng, 2, 6), render.signed(rng, 1, 12)
    x = a * render.signed(rng, 1, 9)
    c = Fraction(x, a) + b
    frac = (f"\\frac{{x}}{{{a}}}", f"x/{a}")
    return equation_draft(
        problem=render.equals(_plus(frac, b), render.pair(c)),
        value=x,
        steps=[
            eq_step(move(b), frac, render.pair(c - b)),
            solved(f"Multiply both sides by ${a}$", "x", x),
        ],
        hints=[
            "Isolate the fraction first, then undo the division.",
            f"{move(b)}.",
            f"Then multiply both sides by ${a}$.",
        ],
        candidates=[
            ((c - b) / a, d.DIVIDED_INSTEAD_OF_MULTIPLIED),
            (a * c - b, d.WRONG_OPERATION_ORDER),
            (a * (c + b), d.ADDED_INSTEAD_OF_SUBTRACTED),
        ],
    )


def _fraction_two_terms(rng: Random) -> Draft:
    """x/a + x/b = c: multiply through by the least common denominator."""
    a = render.pick(rng, 2, 6)
    b = render.pick(rng, 2, 8, exclude=(a, 2 * a, 0))
    n = lcm(a, b)
    x = n * render.signed(rng, 1, 4)
    c = Fraction(x, a) + Fraction(x, b)
    k = n // a + n // b
    frac_a, frac_b = f"\\frac{{x}}{{{a}}}", f"\\frac{{x}}{{{b}}}"
    return equation_draft(
        problem=(
            f"{frac_a} + {frac_b} = {render.num_latex(c)}",
            f"x/{a} + x/{b} = {render.num_plain(c)}",
        ),
        value=x,
        steps=[
            Step(
                f"Multiply every term by the least common denominator ${n}$",
                f"{n // a}x + {n // b}x = {render.num_latex(c * n)}",
                f"{n // a}*x + {n // b}*x = {render.num_plain(c * n)}",
            ),
            eq_step("Combine like terms", render.linear(k, 0), render.pair(c * n)),
            solved(f"Divide both sides by ${k}$", "x", x),
        ],
        hints=[
            "Clear the fractions by multiplying every term by a common denominator.",
            f"The least common denominator of ${a}$ and ${b}$ is ${n}$.",
            "After multiplying, combine the $x$ terms and divide.",
        ],
        candidates=[
            (c * a * b / (a + b), d.ADDED_NUMERATORS_AND_DENOMINATORS),
            (c * n / 2, MULTIPLIED_BY_WRONG_DENOMINATOR),
            (-x, d.SIGN_ERROR),
        ],
    )


def _fraction_cross(rng: Random) -> Draft:
    """(x + p)/q = (x + r)/s: cross-multiply."""
    q = render.pick(rng, 2, 6)
    s = render.pick(rng, 2, 7, exclude=(q, 0))
    x, m = render.signed(rng, 1, 10), render.signed(rng, 1, 5)
    p, r = q * m - x, s * m - x
    while p == 0 or r == 0:
        x = render.signed(rng, 1, 10)
        p, r = q * m - x, s * m - x
    left, right = render.linear(1, p), render.linear(1, r)
    k = s - q
    steps = [
        eq_step("Cross-multiply", render.group(s, left), render.group(q, right)),
        eq_step("Distribute", render.linear(s, s * p), render.linear(q, q * r)),
        eq_step(move(q, "x"), render.linear(k, s * p), render.pair(q * r)),
        *isolate(k, s * p, q * r, Fraction(x)),
    ]
    return equation_draft(
        problem=(
            f"\\frac{{{left[0]}}}{{{q}}} = \\frac{{{right[0]}}}{{{s}}}",
            f"({left[1]})/{q} = ({right[1]})/{s}",
        ),
        value=x,
        steps=steps,
        hints=[
            "With one fraction on each side, cross-multiply to clear the denominators.",
            f"Cross-multiplying gives ${render.group(s, left)[0]} = {render.group(q, right)[0]}$.",
            "Distribute, then collect the $x$ terms on one side.",
        ],
        candidates=[
            (Fraction(r - p, k), d.FORGOT_TO_DISTRIBUTE),
            (Fraction(s * r - q * p, q - s), MULTIPLIED_BY_WRONG_DENOMINATOR),
            (-x, d.SIGN_ERROR),
        ],
    )


def with_fractions(rng: Random, level: int) -> Draft:
    if level == 1:
        return _fraction_simple(rng)
    if level == 2:
        return _fraction_two_terms(rng)
    return _fraction_cross(rng)
