"""Systems of two linear equations in x and y, by substitution and by elimination.

Each step records the whole system (`eq1; eq2`), so the check confirms its solution never changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import gcd
from random import Random

from practicegen.generation.procedural import distractors as d
from practicegen.generation.procedural import render
from practicegen.generation.procedural.base import CheckKind, Draft, Step, Wrong
from practicegen.generation.procedural.steps import Candidate, draft
from practicegen.ports import AnswerPolicy, ItemType


def _eq(terms: Sequence[render.Term], rhs: int) -> render.Pair:
    return render.equals(render.poly(terms), render.pair(rhs))


def _step(text: str, shown: render.Pair, *system: render.Pair) -> Step:
    return Step(text, shown[0], "; ".join(e[1] for e in system))


def _answer(x: int, y: int) -> render.Pair:
    return f"x = {x}, \\; y = {y}", f"x = {x}, y = {y}"


def _wrong(x: int, y: int, tag: str) -> Candidate:
    return (x, y), Wrong.of(_answer(x, y), tag)


def _solution(rng: Random, level: int) -> tuple[int, int]:
    if level == 1:
        return render.pick(rng, 1, 10), render.pick(rng, 1, 10)
    x, y = render.signed(rng, 1, 8), render.signed(rng, 1, 8)
    while x == y:
        y = render.signed(rng, 1, 8)
    return x, y


def _draft(
    eqs: tuple[render.Pair, render.Pair], x: int, y: int, steps: list[Step], hints: list[str]
) -> Draft:
    return draft(
        (CheckKind.SYSTEM, ItemType.EQUATION, AnswerPolicy.SOLUTION_SET),
        stem=(
            f"Solve the system of equations: ${eqs[0][0]}$ and ${eqs[1][0]}$.\n\n"
            "Give your answer as $x = \\dots, y = \\dots$."
        ),
        problem=f"{eqs[0][1]}; {eqs[1][1]}",
        answer=_answer(x, y),
        key=(x, y),
        steps=steps,
        hints=hints,
        candidates=[
            _wrong(y, x, "swapped_x_and_y"),
            _wrong(x, -y, d.SIGN_ERROR),
            _wrong(-x, y, d.SIGN_ERROR),
        ],
    )


def _back_substitute(
    into: render.Pair, shown: render.Pair, x: int, y: int, last: str
) -> list[Step]:
    """From (into; x = x0) to (x = x0; y = y0), through `shown`: `into` with x0 put in."""
    known, found = render.equation("x", x), render.equation("y", y)
    return [
        _step("Solve for $x$", known, into, known),
        _step(f"Substitute $x = {x}$ into ${into[0]}$", shown, shown, known),
        _step(last, found, known, found),
    ]


def _coefficients(rng: Random, level: int, m: int) -> tuple[int, int]:
    if level == 1:
        return render.pick(rng, 1, 3), 1
    a, c = render.signed(rng, 1, 6), render.signed(rng, 2, 5)
    while a + c * m == 0:
        a = render.signed(rng, 1, 6)
    return a, c


def substitution(rng: Random, level: int) -> Draft:
    """y = m*x + b with a*x + c*y = e; at level 3 the first equation must be solved for y."""
    x, y = _solution(rng, level)
    m = render.pick(rng, 2, 5) if level == 1 else render.signed(rng, 1, 5)
    b = 0 if level == 1 else y - m * x
    y = m * x + b
    a, c = _coefficients(rng, level, m)
    e = a * x + c * y
    line = render.linear(m, b)
    solved = render.equals(("y", "y"), line)
    first = solved if level < 3 else _eq([(1, "y"), (-m, "x")], b)
    second = _eq([(a, "x"), (c, "y")], e)
    substituted = (
        f"{render.linear(a, 0)[0]} {'+' if c > 0 else '-'} {abs(c)}({line[0]}) = {e}",
        f"{a}*x + {c}*({line[1]}) = {e}",
    )
    combined = _eq([(a + c * m, "x"), (c * b, "")], e)
    tail = f" {'+' if b > 0 else '-'} {abs(b)}" if b else ""
    lead = {1: "", -1: "-"}.get(m, str(m))
    shown = f"y = {lead}({x}){tail}", f"y = {m}*({x}){tail}"
    steps = [] if level < 3 else [_step("Solve the first equation for $y$", solved, solved, second)]
    steps += [
        _step("Substitute for $y$ in the second equation", substituted, solved, substituted),
        _step("Distribute and combine like terms", combined, solved, combined),
        *_back_substitute(solved, shown, x, y, "Simplify"),
    ]
    hints = [
        "Write $y$ in terms of $x$ and replace $y$ in the other equation.",
        f"Substituting gives ${substituted[0]}$, an equation in $x$ only.",
        "Once you know $x$, put it back in to find $y$.",
    ]
    return _draft((first, second), x, y, steps, hints)


def _multiplier_text(m1: int, m2: int) -> str:
    parts = [f"the first equation by ${m1}$"] if m1 != 1 else []
    parts += [f"the second equation by ${m2}$"] if m2 != 1 else []
    return "Multiply " + " and ".join(parts)


def _elimination_coefficients(rng: Random, level: int) -> tuple[int, int, int, int]:
    a = render.pick(rng, 1, 6)
    if level == 1:
        b = render.pick(rng, 1, 6)
        return a, b, render.pick(rng, 1, 6), -b
    if level == 2:
        dy = render.signed(rng, 1, 4)
        b = -render.pick(rng, 2, 3) * dy
    else:
        b, dy = render.signed(rng, 2, 7), render.signed(rng, 2, 7)
        while abs(b) == abs(dy):
            dy = render.signed(rng, 2, 7)
    c = render.signed(rng, 1, 6)
    while a * dy - b * c == 0:
        c = render.signed(rng, 1, 6)
    return a, b, c, dy


def elimination(rng: Random, level: int) -> Draft:
    """Add the equations to eliminate y, after scaling one (level 2) or both (level 3)."""
    x, y = _solution(rng, level)
    a, b, c, dy = _elimination_coefficients(rng, level)
    first = _eq([(a, "x"), (b, "y")], a * x + b * y)
    second = _eq([(c, "x"), (dy, "y")], c * x + dy * y)
    g = gcd(b, dy) * (1 if dy > 0 else -1)
    m1, m2 = dy // g, -b // g
    e1, e2 = m1 * (a * x + b * y), m2 * (c * x + dy * y)
    scaled1 = _eq([(m1 * a, "x"), (m1 * b, "y")], e1)
    scaled2 = _eq([(m2 * c, "x"), (m2 * dy, "y")], e2)
    summed = _eq([(m1 * a + m2 * c, "x")], e1 + e2)
    steps = []
    scale = _multiplier_text(m1, m2)
    if (m1, m2) != (1, 1):
        both = f"{scaled1[0]} \\text{{ and }} {scaled2[0]}", ""
        steps.append(_step(scale, both, scaled1, scaled2))
    steps.append(_step("Add the equations; the $y$ terms cancel", summed, scaled1, summed))
    sign = "+" if b > 0 else "-"
    shown = (
        f"{a}({x}) {sign} {render.linear(abs(b), 0, 'y')[0]} = {a * x + b * y}",
        f"{a}*({x}) + {b}*y = {a * x + b * y}",
    )
    steps += _back_substitute(first, shown, x, y, "Solve for $y$")
    hints = [
        "Make the $y$ coefficients opposites, then add the equations to eliminate $y$.",
        f"{scale} so the $y$ terms cancel."
        if (m1, m2) != (1, 1)
        else "The $y$ coefficients are already opposites: add the equations.",
        "Solve for $x$, then substitute it back to find $y$.",
    ]
    return _draft((first, second), x, y, steps, hints)
