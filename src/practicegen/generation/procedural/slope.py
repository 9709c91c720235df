"""Slope: from two points (`slope(x1, y1, x2, y2)`, which the check evaluates with its own
formula), and from a line's equation (which the check solves for y).
"""

from __future__ import annotations

from fractions import Fraction
from random import Random

from practicegen.generation.procedural import distractors as d
from practicegen.generation.procedural.base import CheckKind, Draft, Step
from practicegen.generation.procedural.render import Pair, equals, linear, pair, pick, poly, signed
from practicegen.generation.procedural.steps import move, number_draft


def _points(rng: Random, level: int) -> tuple[int, int, int]:
    """(x1, y1, x2); from level 3 on |x2 - x1| >= 2 so the slope can be a proper fraction."""
    if level == 1:
        x1 = pick(rng, 0, 6, exclude=())
        return x1, pick(rng, 0, 6, exclude=()), x1 + pick(rng, 1, 5)
    x1, x2 = signed(rng, 1, 9), signed(rng, 1, 9)
    while abs(x2 - x1) < (2 if level == 3 else 1):
        x2 = signed(rng, 1, 9)
    return x1, signed(rng, 1, 9), x2


def two_points(rng: Random, level: int) -> Draft:
    """Level 1: positive whole-number slope; 2: negative coordinates; 3: fractional slope."""
    x1, y1, x2 = _points(rng, level)
    run = x2 - x1
    if level == 3:
        rise = signed(rng, 1, 12)
        while rise % run == 0:
            rise = signed(rng, 1, 12)
    else:
        m = pick(rng, 1, 4) if level == 1 else signed(rng, 1, 4)
        rise = m * run
    y2 = y1 + rise
    slope = Fraction(rise, run)
    py1, px1 = (f"({v})" if v < 0 else str(v) for v in (y1, x1))
    quotient = f"\\frac{{{y2} - {py1}}}{{{x2} - {px1}}}", f"({y2} - {py1})/({x2} - {px1})"
    candidates = [(Fraction(run, rise), "run_over_rise"), (-slope, "mixed_coordinate_order")]
    if x1 + x2 != 0:
        candidates.append((Fraction(y1 + y2, x1 + x2), d.ADDED_INSTEAD_OF_SUBTRACTED))
    return number_draft(
        stem=f"What is the slope of the line through $({x1}, {y1})$ and $({x2}, {y2})$?",
        problem=f"slope({x1}, {y1}, {x2}, {y2})",
        value=slope,
        steps=[
            Step("Use $m = \\frac{y_2 - y_1}{x_2 - x_1}$", *quotient),
            Step("Subtract", f"\\frac{{{rise}}}{{{run}}}", f"{rise}/({run})"),
        ],
        finish="Simplify",
        hints=[
            "Slope is rise over run: the change in $y$ divided by the change in $x$.",
            "Subtract the coordinates in the same order on top and bottom.",
            f"The change in $x$ is ${x2} - {px1} = {run}$.",
        ],
        candidates=candidates,
        multiple_choice=rng.random() < 0.5,
    )


def _line(rng: Random, level: int) -> tuple[int, int, int]:
    """(a, b, c) for a*x + b*y = c, with b != 0 so the slope exists."""
    if level == 1:
        return signed(rng, 1, 9), -1, signed(rng, 1, 12)  # y = a*x + c, written as -y = ...
    b = signed(rng, 2, 6)
    return signed(rng, 1, 9), b, signed(rng, 1, 12) * (b if level == 2 else 1)


def _rearrange(a: int, b: int, c: int, level: int, solved: Pair) -> tuple[Pair, list[Step], str]:
    """(the line as shown, the steps to y = mx + b, the second hint)."""
    if level == 1:
        return solved, [], "Read the number multiplying $x$."
    by = equals(linear(b, 0, "y"), linear(-a, c))
    divide = Step(f"Divide both sides by ${b}$", *solved)
    if level == 2:
        return by, [divide], f"Divide every term by ${b}$."
    shown = equals(poly([(a, "x"), (b, "y")]), pair(c))
    return shown, [Step(move(a, "x"), *by), divide], f"{move(a, 'x')} first."


def from_equation(rng: Random, level: int) -> Draft:
    """Level 1: y = mx + b; 2: ky = ax + c; 3: standard form ax + by = c."""
    a, b, c = _line(rng, level)
    m, intercept = Fraction(-a, b), Fraction(c, b)
    solved = equals(("y", "y"), linear(m, intercept))
    shown, steps, hint = _rearrange(a, b, c, level, solved)
    last = "The slope is the coefficient of $x$" + ("" if steps else " in")
    candidates = [(intercept, "gave_the_intercept"), (-m, d.SIGN_ERROR)]
    if level > 1:
        candidates += [(Fraction(a), d.STOPPED_EARLY), (1 / m, d.INVERTED_FRACTION)]
    return number_draft(
        stem=f"What is the slope of the line ${shown[0]}$?",
        problem=shown[1],
        value=m,
        steps=[*steps, Step(last, *solved)],
        hints=["Write the equation in the form $y = mx + b$; the slope is $m$.", hint],
        candidates=candidates,
        kind=CheckKind.LINE_SLOPE,
    )
