"""Quadratic equations solved by factoring and by taking square roots.

The roots are chosen first and the equation is their product expanded; keys list every solution.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from math import gcd, isqrt
from random import Random

from practicegen.generation.procedural import distractors as d
from practicegen.generation.procedural import render
from practicegen.generation.procedural.base import CheckKind, Draft, Step, Wrong
from practicegen.generation.procedural.steps import Candidate, draft, eq_step, move, solve_stem
from practicegen.ports import AnswerPolicy, ItemType


def _roots_text(roots: Sequence[render.Pair], var: render.Pair = ("x", "x")) -> render.Pair:
    return (
        " \\text{ or } ".join(f"{var[0]} = {r[0]}" for r in roots),
        " or ".join(f"{var[1]} = {r[1]}" for r in roots),
    )


def _rational_roots(values: Sequence[Fraction]) -> list[render.Pair]:
    return [render.pair(v) for v in sorted(set(values))]


def _wrong(roots: Sequence[render.Pair], tag: str) -> Candidate:
    return frozenset(r[1] for r in roots), Wrong.of(_roots_text(roots), tag)


def _draft(
    problem: render.Pair,
    roots: list[render.Pair],
    steps: list[Step],
    hints: list[str],
    candidates: list[Candidate],
    multiple_choice: bool,
) -> Draft:
    tail = (
        "\n\nChoose the correct solutions."
        if multiple_choice
        else "\n\nGive every solution, e.g. $x = a \\text{ or } x = b$."
    )
    return draft(
        (CheckKind.EQUATION, ItemType.EQUATION, AnswerPolicy.SOLUTION_SET),
        stem=solve_stem(problem[0]) + tail,
        problem=problem[1],
        answer=_roots_text(roots),
        key=frozenset(r[1] for r in roots),
        steps=steps,
        hints=hints,
        candidates=candidates,
        multiple_choice=multiple_choice,
    )


def _factoring_roots(rng: Random, level: int) -> tuple[int, int, int]:
    """(p, q, r): the factors are (p*x - q)(x - r), so the roots are q/p and r."""
    if level == 1:
        m, n = render.pick(rng, 1, 12), render.pick(rng, 1, 12)
        while n == m:
            n = render.pick(rng, 1, 12)
        return 1, -m, -n
    if level == 4:
        p = render.pick(rng, 2, 5)
        q = render.signed(rng, 1, 9)
        while gcd(p, q) != 1:
            q = render.signed(rng, 1, 9)
        return p, q, render.signed(rng, 1, 6)
    q, r = render.signed(rng, 1, 10), render.signed(rng, 1, 10)
    while r in (q, -q):
        r = render.signed(rng, 1, 10)
    return 1, q, r


def _factoring_hint(a: int, b: int, c: int) -> str:
    if c == 0:
        return "Both terms share a factor of $x$."
    if b == 0:
        return "The left side is a difference of two squares, $x^2 - k^2 = (x - k)(x + k)$."
    return f"Look for two numbers whose product is ${a * c}$ and whose sum is ${b}$."


def _factored_steps(p: int, q: int, r: int) -> list[Step]:
    """From the standard form to the roots of (p*x - q)(x - r) = 0."""
    f1, f2 = ("x", "x") if q == 0 else render.linear(p, -q), render.linear(1, -r)
    factored = (
        (f"x({f2[0]}) = 0", f"x*({f2[1]}) = 0")
        if q == 0
        else (f"({f1[0]})({f2[0]}) = 0", f"({f1[1]})*({f2[1]}) = 0")
    )
    zeros = f"{f1[0]} = 0 \\text{{ or }} {f2[0]} = 0", f"{f1[1]} = 0 or {f2[1]} = 0"
    return [
        Step("Factor", *factored),
        Step("Set each factor equal to zero", *zeros),
        Step("Solve each equation", *_roots_text(_rational_roots([Fraction(q, p), Fraction(r)]))),
    ]


def _factoring_wrongs(roots: list[Fraction]) -> list[Candidate]:
    first, second = roots
    return [
        _wrong(_rational_roots([-first, -second]), d.SIGN_ERROR),
        _wrong(_rational_roots([first, -second]), d.SOLVED_WITH_WRONG_SIGN),
        _wrong(_rational_roots([second]), d.DROPPED_A_SOLUTION),
        _wrong(_rational_roots([-first, second]), d.SOLVED_WITH_WRONG_SIGN),
        _wrong(_rational_roots([first]), d.DROPPED_A_SOLUTION),
    ]


def factoring(rng: Random, level: int) -> Draft:
    """x^2 + bx + c with b, c > 0; any signs; moved terms or a special form; a*x^2 with a > 1."""
    p, q, r = _factoring_roots(rng, level)
    if level == 3 and rng.random() < 0.4:
        k = render.pick(rng, 2, 12)
        q, r = (0, k * rng.choice((1, -1))) if rng.random() < 0.5 else (k, -k)
    a, b, c = p, -(p * r + q), q * r
    expanded = render.poly([(a, "x**2"), (b, "x"), (c, "")])
    problem = standard = render.equals(expanded, ("0", "0"))
    steps: list[Step] = []
    if level == 3 and c != 0 and b != 0:
        problem = render.equals(render.poly([(a, "x**2"), (b, "x")]), render.pair(-c))
        steps.append(Step(f"{move(-c)} to get $0$ on the right", *standard))
    roots = [Fraction(q, p), Fraction(r)]
    hints = [
        "Get $0$ on one side of the equation and factor the other side.",
        _factoring_hint(a, b, c),
        "If a product is zero, one of its factors is zero.",
    ]
    steps += _factored_steps(p, q, r)
    multiple_choice = level <= 2 and rng.random() < 0.5
    return _draft(
        problem, _rational_roots(roots), steps, hints, _factoring_wrongs(roots), multiple_choice
    )


def _shifted_root(h: int, n: int, sign: int) -> render.Pair:
    """h + sign*sqrt(n), simplified."""
    latex, plain = render.radical(n)
    if plain.isdigit():
        value = h + sign * int(plain)
        return str(value), str(value)
    if h == 0:
        return ("" if sign > 0 else "-") + latex, ("" if sign > 0 else "-") + plain
    op = "+" if sign > 0 else "-"
    return f"{h} {op} {latex}", f"{h} {op} {plain}"


def _pm_roots(h: int, n: int) -> list[render.Pair]:
    return [_shifted_root(h, n, 1), _shifted_root(h, n, -1)]


def _square_root_problem(rng: Random, level: int) -> tuple[int, int, int, int, int]:
    """(a, h, c, n, e): a*(x - h)^2 + c = e with (x - h)^2 = n."""
    if level == 1:
        n = render.pick(rng, 2, 20) ** 2
        a = 1 if rng.random() < 0.5 else render.pick(rng, 2, 5)
        return a, 0, 0, n, a * n
    if level == 2:
        n = render.pick(rng, 1, 12) ** 2
        if rng.random() < 0.5:
            a, c = render.pick(rng, 2, 6), render.signed(rng, 1, 30)
            return a, 0, c, n, a * n + c
        return 1, render.signed(rng, 1, 9), 0, n, n
    n = rng.choice([v for v in range(2, 76) if isqrt(v) ** 2 != v])
    h = 0 if rng.random() < 0.5 else render.signed(rng, 1, 9)
    return 1, h, 0, n, n


def square_root(rng: Random, level: int) -> Draft:
    """x^2 = k; a*x^2 + c = e or (x - h)^2 = k; then irrational roots in simplest form."""
    a, h, c, n, e = _square_root_problem(rng, level)
    base = ("x", "x") if h == 0 else render.linear(1, -h)
    lhs = (
        render.poly([(a, "x**2"), (c, "")]) if h == 0 else (f"({base[0]})^{{2}}", f"({base[1]})**2")
    )
    steps: list[Step] = []
    if c:
        steps.append(eq_step(move(c), render.poly([(a, "x**2")]), render.pair(e - c)))
    if a != 1:
        steps.append(
            eq_step(f"Divide both sides by ${a}$", render.poly([(1, "x**2")]), render.pair(n))
        )
    rooted = _roots_text(_pm_roots(0, n), base)
    steps.append(Step("Take the square root of both sides (both signs)", *rooted))
    roots = _pm_roots(h, n)
    if h:
        steps.append(Step(move(-h), *_roots_text(roots)))
    hints = [
        "Isolate the squared part, then take the square root of both sides.",
        "A positive number has two square roots, one positive and one negative.",
        "Simplify the square root if it has a perfect-square factor."
        if level == 3
        else "Check both solutions in the original equation.",
    ]
    candidates = [
        _wrong(roots[:1], d.DROPPED_A_SOLUTION),
        _wrong(
            _pm_roots(h, n * n) if h == 0 else _pm_roots(-h, n),
            d.FORGOT_SQUARE_ROOT if h == 0 else d.SIGN_ERROR,
        ),
        _wrong([render.pair(Fraction(n, 2))], "halved_instead_of_square_root"),
    ]
    return _draft(
        render.equals(lhs, render.pair(e)), roots, steps, hints, candidates, multiple_choice=False
    )
