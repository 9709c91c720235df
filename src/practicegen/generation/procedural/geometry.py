"""Area and perimeter of rectangles, triangles and circles.

Problems are recorded as named quantities (`rectangle_area(8, 5)`, `circle_area(3)`) that the
check evaluates with its own formulas; finding a missing side is recorded as an equation in that
side (`rectangle_area(8, w) = 48`). Circle answers are exact multiples of pi at level 1 and
rounded to tenths, graded with a tolerance, above it.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from random import Random

from practicegen.generation.procedural import distractors as d
from practicegen.generation.procedural.base import CheckKind, Draft, Step, Wrong
from practicegen.generation.procedural.render import decimal, num_latex, num_plain, pick
from practicegen.generation.procedural.steps import number_draft
from practicegen.ports import AnswerPolicy, ItemType

UNITS = (("cm", "centimeters"), ("m", "meters"), ("in", "inches"), ("ft", "feet"))
PI = Decimal("3.14159265358979323846264338327950288")
TENTH_TOLERANCE = 0.05
FORGOT_TO_DOUBLE = "forgot_to_double"
LEFT_OUT_PI = "left_out_pi"
ADDED_ONLY_TWO_SIDES = "added_only_two_sides"

Wrongs = list[tuple[Fraction, str]]


def _tenths_value(rng: Random, lo: int, hi: int) -> Fraction:
    """A number with exactly one decimal place, lo/10 to hi/10."""
    return Fraction(rng.choice([v for v in range(lo, hi + 1) if v % 10]), 10)


def _unit(rng: Random) -> tuple[str, str]:
    return rng.choice(UNITS)


def _missing_side_draft(
    stem: str,
    problem: str,
    value: Fraction,
    steps: Sequence[Step],
    hints: Sequence[str],
    wrongs: Wrongs,
    multiple_choice: bool,
) -> Draft:
    """A numeric item whose problem is an equation in the missing side."""
    draft = number_draft(
        stem=stem,
        problem=problem,
        value=value,
        steps=steps,
        hints=hints,
        candidates=[(v, tag) for v, tag in wrongs if v > 0],
        multiple_choice=multiple_choice,
        decimals=True,
    )
    return replace(draft, kind=CheckKind.EQUATION)


def _width_from_area(rng: Random, short: str, long_: str) -> Draft:
    length, width = pick(rng, 3, 15), pick(rng, 2, 12)
    area = length * width
    return _missing_side_draft(
        stem=f"A rectangle has an area of ${area}$ square {long_} and a length of "
        f"${length}$ {short}. What is its width, in {long_}?",
        problem=f"rectangle_area({length}, w) = {area}",
        value=Fraction(width),
        steps=[
            Step("Area is length times width", f"{length}w = {area}", f"{length}*w = {area}"),
            Step(f"Divide both sides by ${length}$", f"w = {width}", f"w = {width}"),
        ],
        hints=[
            "The area of a rectangle is length times width.",
            f"Which number times ${length}$ gives ${area}$?",
        ],
        wrongs=[
            (Fraction(area * length), d.MULTIPLIED_INSTEAD_OF_DIVIDED),
            (Fraction(area - length), d.WRONG_INVERSE_OPERATION),
            (Fraction(area, 2) - length, d.AREA_PERIMETER_CONFUSION),
        ],
        multiple_choice=rng.random() < 0.4,
    )


def rectangle_area(rng: Random, level: int) -> Draft:
    """Level 1: whole sides; 2: decimal sides; 3: the missing side from the area."""
    short, long_ = _unit(rng)
    if level == 3:
        return _width_from_area(rng, short, long_)
    if level == 1:
        length, width = Fraction(pick(rng, 3, 15)), Fraction(pick(rng, 2, 12))
    else:
        length, width = _tenths_value(rng, 21, 150), _tenths_value(rng, 11, 90)
    area = length * width
    l_s, w_s = decimal(length), decimal(width)
    return number_draft(
        stem=f"A rectangle is ${l_s}$ {short} long and ${w_s}$ {short} wide. "
        f"What is its area, in square {long_}?",
        problem=f"rectangle_area({l_s}, {w_s})",
        value=area,
        steps=[
            Step("Area is length times width", f"{l_s} \\times {w_s}", f"{l_s}*{w_s}"),
            Step("Multiply", decimal(area), decimal(area)),
        ],
        hints=[
            "The area of a rectangle is its length times its width.",
            f"Multiply ${l_s}$ by ${w_s}$.",
        ],
        candidates=[
            (2 * (length + width), d.AREA_PERIMETER_CONFUSION),
            (length + width, d.ADDED_INSTEAD_OF_MULTIPLIED),
        ],
        multiple_choice=rng.random() < 0.5,
        decimals=True,
    )


def _height_from_area(rng: Random, base: int, height: int, short: str, long_: str) -> Draft:
    area = Fraction(base * height, 2)
    return _missing_side_draft(
        stem=f"A triangle has an area of ${decimal(area)}$ square {long_} and a base of "
        f"${base}$ {short}. What is its height, in {long_}?",
        problem=f"triangle_area({base}, h) = {decimal(area)}",
        value=Fraction(height),
        steps=[
            Step(
                "Area is half of base times height",
                f"\\frac{{{base}h}}{{2}} = {decimal(area)}",
                f"{base}*h/2 = {decimal(area)}",
            ),
            Step(
                "Multiply both sides by $2$",
                f"{base}h = {base * height}",
                f"{base}*h = {base * height}",
            ),
            Step(f"Divide both sides by ${base}$", f"h = {height}", f"h = {height}"),
        ],
        hints=[
            "The area of a triangle is half of base times height.",
            "Double the area first, then divide by the base.",
        ],
        wrongs=[
            (area / base, FORGOT_TO_DOUBLE),
            (2 * area * base, d.MULTIPLIED_INSTEAD_OF_DIVIDED),
            (area - base, d.WRONG_INVERSE_OPERATION),
        ],
        multiple_choice=rng.random() < 0.4,
    )


def triangle_area(rng: Random, level: int) -> Draft:
    """Level 1: whole answer; 2: a half in the answer; 3: the height from the area."""
    short, long_ = _unit(rng)
    base, height = pick(rng, 2, 20), pick(rng, 2, 16)
    if level == 1 and base * height % 2:
        base += 1
    if level == 2 and base * height % 2 == 0:
        base, height = base | 1, height | 1
    area = Fraction(base * height, 2)
    if level == 3:
        return _height_from_area(rng, base, height, short, long_)
    return number_draft(
        stem=f"A triangle has a base of ${base}$ {short} and a height of ${height}$ {short}. "
        f"What is its area, in square {long_}?",
        problem=f"triangle_area({base}, {height})",
        value=area,
        steps=[
            Step(
                "Area is half of base times height",
                f"\\frac{{1}}{{2}} \\times {base} \\times {height}",
                f"{base}*{height}/2",
            ),
            Step("Compute", decimal(area), decimal(area)),
        ],
        hints=[
            "The area of a triangle is half of base times height.",
            f"Find ${base} \\times {height}$, then halve it.",
        ],
        candidates=[
            (Fraction(base * height), d.FORGOT_TO_HALVE),
            (Fraction(base + height), d.ADDED_INSTEAD_OF_MULTIPLIED),
        ],
        multiple_choice=rng.random() < 0.4,
        decimals=True,
    )


def _tenths(coef: Fraction) -> Fraction:
    """coef * pi rounded to the nearest tenth."""
    value = PI * coef.numerator / coef.denominator
    return Fraction(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _pi_text(coef: Fraction) -> tuple[str, str]:
    return f"{num_latex(coef)}\\pi", f"{num_plain(coef)}*pi"


def _exact_pi(coef: Fraction) -> tuple[Hashable, tuple[str, str]]:
    return coef, _pi_text(coef)


def _rounded_pi(coef: Fraction) -> tuple[Hashable, tuple[str, str]]:
    text = decimal(_tenths(coef))
    return _tenths(coef), (text, text)


def _pi_draft(
    stem: str,
    problem: str,
    coef: Fraction,
    exact: bool,
    formula: tuple[str, str],
    hints: Sequence[str],
    wrongs: Wrongs,
    multiple_choice: bool,
) -> Draft:
    """An answer of coef*pi, exact or rounded to tenths (graded with a tolerance)."""
    write = _exact_pi if exact else _rounded_pi
    stem += " Give an exact answer in terms of $\\pi$." if exact else " Round to the nearest tenth."

    def wrong(c: Fraction, tag: str) -> tuple[Hashable, Wrong]:
        canon, (latex, plain) = write(c)
        return canon, Wrong(plain, latex, tag)

    def top_up(index: int) -> tuple[Hashable, Wrong]:
        return wrong(coef + index + 1, d.ARITHMETIC_SLIP)

    key, (latex, plain) = write(coef)
    steps = [Step("Use the formula", *formula), Step("Simplify", *_pi_text(coef))]
    if not exact:
        steps.append(Step("Round to the nearest tenth", latex, plain))
    return Draft(
        kind=CheckKind.VALUE,
        item_type=ItemType.NUMERIC,
        policy=AnswerPolicy.EQUIVALENT if exact else AnswerPolicy.NUMERIC_TOLERANCE,
        stem=stem,
        problem=problem,
        answer=plain,
        answer_latex=latex,
        steps=tuple(steps),
        hints=tuple(hints),
        wrongs=d.select(
            key,
            [wrong(c, tag) for c, tag in wrongs],
            top_up=top_up if multiple_choice else None,
        ),
        multiple_choice=multiple_choice,
        tolerance=None if exact else TENTH_TOLERANCE,
    )


def _circle_size(rng: Random, level: int) -> tuple[int, Fraction, str]:
    """(the number shown, the radius, 'radius' or 'diameter'); level 3 shows the diameter."""
    if level == 3:
        diameter = pick(rng, 3, 50)
        return diameter, Fraction(diameter, 2), "diameter"
    radius = pick(rng, 2, 30)
    return radius, Fraction(radius), "radius"


def circle_area(rng: Random, level: int) -> Draft:
    """Level 1: exact, in terms of pi; 2: rounded; 3: from the diameter, rounded."""
    short, long_ = _unit(rng)
    shown, r, word = _circle_size(rng, level)
    name = "circle_area_from_diameter" if word == "diameter" else "circle_area"
    wrongs: Wrongs = [(2 * r, d.AREA_PERIMETER_CONFUSION), (r, "forgot_to_square_the_radius")]
    if word == "diameter":
        wrongs.insert(0, (Fraction(shown * shown), d.USED_DIAMETER_AS_RADIUS))
    return _pi_draft(
        stem=f"A circle has a {word} of ${shown}$ {short}. What is its area, in square {long_}?",
        problem=f"{name}({shown})",
        coef=r * r,
        exact=level == 1,
        formula=(f"\\pi \\times {num_latex(r)}^{{2}}", f"pi*({num_plain(r)})**2"),
        hints=[
            "The area of a circle is $\\pi r^2$.",
            "The radius is half the diameter."
            if word == "diameter"
            else "Square the radius first, then multiply by $\\pi$.",
        ],
        wrongs=wrongs,
        multiple_choice=level > 1 and rng.random() < 0.4,
    )


def circumference(rng: Random, level: int) -> Draft:
    """Level 1: exact, in terms of pi; 2: rounded; 3: from the diameter, rounded."""
    short, long_ = _unit(rng)
    shown, r, word = _circle_size(rng, level)
    name = "circumference_from_diameter" if word == "diameter" else "circumference"
    wrongs: Wrongs = [(r * r, d.AREA_PERIMETER_CONFUSION), (r, FORGOT_TO_DOUBLE)]
    if word == "diameter":
        wrongs.insert(0, (Fraction(2 * shown), d.USED_DIAMETER_AS_RADIUS))
    return _pi_draft(
        stem=f"A circle has a {word} of ${shown}$ {short}. What is its circumference, in {long_}?",
        problem=f"{name}({shown})",
        coef=2 * r,
        exact=level == 1,
        formula=(f"2 \\pi \\times {num_latex(r)}", f"2*pi*{num_plain(r)}"),
        hints=[
            "The circumference of a circle is $2\\pi r$, or $\\pi d$.",
            "Use $\\pi d$ directly with the diameter."
            if word == "diameter"
            else "Double the radius, then multiply by $\\pi$.",
        ],
        wrongs=wrongs,
        multiple_choice=level > 1 and rng.random() < 0.4,
    )


def _width_from_perimeter(rng: Random, short: str, long_: str) -> Draft:
    length, width = pick(rng, 4, 20), pick(rng, 2, 15)
    perimeter = 2 * (length + width)
    return _missing_side_draft(
        stem=f"A rectangle has a perimeter of ${perimeter}$ {short} and a length of "
        f"${length}$ {short}. What is its width, in {long_}?",
        problem=f"rectangle_perimeter({length}, w) = {perimeter}",
        value=Fraction(width),
        steps=[
            Step(
                "Perimeter is twice length plus width",
                f"2({length} + w) = {perimeter}",
                f"2*({length} + w) = {perimeter}",
            ),
            Step(
                "Divide both sides by $2$",
                f"{length} + w = {perimeter // 2}",
                f"{length} + w = {perimeter // 2}",
            ),
            Step(f"Subtract ${length}$", f"w = {width}", f"w = {width}"),
        ],
        hints=[
            "The perimeter is the distance all the way around: two lengths and two widths.",
            "Half the perimeter is one length plus one width.",
        ],
        wrongs=[
            (Fraction(perimeter - 2 * length), d.FORGOT_TO_HALVE),
            (Fraction(perimeter - length), ADDED_ONLY_TWO_SIDES),
            (Fraction(perimeter, length), d.AREA_PERIMETER_CONFUSION),
        ],
        multiple_choice=rng.random() < 0.4,
    )


def rectangle_perimeter(rng: Random, level: int) -> Draft:
    """Level 1: whole sides; 2: decimal sides; 3: the missing side from the perimeter."""
    short, long_ = _unit(rng)
    if level == 3:
        return _width_from_perimeter(rng, short, long_)
    if level == 1:
        length, width = Fraction(pick(rng, 3, 25)), Fraction(pick(rng, 2, 20))
    else:
        length, width = _tenths_value(rng, 21, 150), _tenths_value(rng, 11, 90)
    perimeter = 2 * (length + width)
    l_s, w_s = decimal(length), decimal(width)
    return number_draft(
        stem=f"A rectangle is ${l_s}$ {short} long and ${w_s}$ {short} wide. "
        f"What is its perimeter, in {long_}?",
        problem=f"rectangle_perimeter({l_s}, {w_s})",
        value=perimeter,
        steps=[
            Step(
                "Perimeter is twice the sum of length and width",
                f"2 \\times ({l_s} + {w_s})",
                f"2*({l_s} + {w_s})",
            ),
            Step("Compute", decimal(perimeter), decimal(perimeter)),
        ],
        hints=[
            "The perimeter is the distance all the way around the rectangle.",
            "Add all four sides: two lengths and two widths.",
        ],
        candidates=[
            (length * width, d.AREA_PERIMETER_CONFUSION),
            (length + width, ADDED_ONLY_TWO_SIDES),
        ],
        multiple_choice=rng.random() < 0.5,
        decimals=True,
    )
