"""Area and perimeter of rectangles, triangles and circles.

Problems are named quantities (`circle_area(3)`) or, for a missing side, equations in it
(`rectangle_area(8, w) = 48`). Circle answers are exact in pi at level 1, rounded to tenths above.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import partial
from random import Random

from practicegen.generation.procedural import distractors as d
from practicegen.generation.procedural import render
from practicegen.generation.procedural.base import CheckKind, Draft, Step, Wrong
from practicegen.generation.procedural.steps import Candidate, draft, eq_step, number_draft, solved
from practicegen.ports import AnswerPolicy, ItemType

UNITS = (("cm", "centimeters"), ("m", "meters"), ("in", "inches"), ("ft", "feet"))
PI = Decimal("3.14159265358979323846264338327950288")
TENTH_TOLERANCE = 0.05
FORGOT_TO_DOUBLE = "forgot_to_double"
ADDED_ONLY_TWO_SIDES = "added_only_two_sides"

Wrongs = list[tuple[render.Number, str]]


def _tenths_value(rng: Random, lo: int, hi: int) -> Fraction:
    """A number with exactly one decimal place, lo/10 to hi/10."""
    return Fraction(rng.choice([v for v in range(lo, hi + 1) if v % 10]), 10)


def _missing_side(
    rng: Random,
    stem: str,
    problem: str,
    value: int,
    steps: list[Step],
    hints: list[str],
    wrongs: Wrongs,
) -> Draft:
    """A numeric item whose problem is an equation in the missing side."""
    return number_draft(
        stem=stem,
        problem=problem,
        value=value,
        steps=steps,
        hints=hints,
        candidates=[(v, tag) for v, tag in wrongs if v > 0],
        multiple_choice=rng.random() < 0.4,
        decimals=True,
        kind=CheckKind.EQUATION,
    )


def _width_from_area(rng: Random, short: str, long_: str) -> Draft:
    length, width = render.pick(rng, 3, 15), render.pick(rng, 2, 12)
    area = length * width
    return _missing_side(
        rng,
        f"A rectangle has an area of ${area}$ square {long_} and a length of "
        f"${length}$ {short}. What is its width, in {long_}?",
        f"rectangle_area({length}, w) = {area}",
        width,
        [
            eq_step("Area is length times width", render.linear(length, 0, "w"), render.pair(area)),
            solved(f"Divide both sides by ${length}$", "w", width),
        ],
        [
            "The area of a rectangle is length times width.",
            f"Which number times ${length}$ gives ${area}$?",
        ],
        [
            (area * length, d.MULTIPLIED_INSTEAD_OF_DIVIDED),
            (area - length, d.WRONG_INVERSE_OPERATION),
            (Fraction(area, 2) - length, d.AREA_PERIMETER_CONFUSION),
        ],
    )


def _width_from_perimeter(rng: Random, short: str, long_: str) -> Draft:
    length, width = render.pick(rng, 4, 20), render.pick(rng, 2, 15)
    perimeter = 2 * (length + width)
    half = render.poly([(length, ""), (1, "w")])
    twice = render.group(2, half)
    return _missing_side(
        rng,
        f"A rectangle has a perimeter of ${perimeter}$ {short} and a length of "
        f"${length}$ {short}. What is its width, in {long_}?",
        f"rectangle_perimeter({length}, w) = {perimeter}",
        width,
        [
            eq_step("Perimeter is twice length plus width", twice, render.pair(perimeter)),
            eq_step("Divide both sides by $2$", half, render.pair(perimeter // 2)),
            solved(f"Subtract ${length}$", "w", width),
        ],
        [
            "The perimeter is the distance all the way around: two lengths and two widths.",
            "Half the perimeter is one length plus one width.",
        ],
        [
            (perimeter - 2 * length, d.FORGOT_TO_HALVE),
            (perimeter - length, ADDED_ONLY_TWO_SIDES),
            (Fraction(perimeter, length), d.AREA_PERIMETER_CONFUSION),
        ],
    )


def _rectangle(rng: Random, level: int, perimeter: bool) -> Draft:
    """Level 1: whole sides; 2: decimal sides; 3: the missing side from the area or perimeter."""
    short, long_ = rng.choice(UNITS)
    if level == 3:
        return (_width_from_perimeter if perimeter else _width_from_area)(rng, short, long_)
    if level == 1:
        longest, widest = (25, 20) if perimeter else (15, 12)
        length = Fraction(render.pick(rng, 3, longest))
        width = Fraction(render.pick(rng, 2, widest))
    else:
        length, width = _tenths_value(rng, 21, 150), _tenths_value(rng, 11, 90)
    area, around = length * width, 2 * (length + width)
    l_s, w_s = render.decimal(length), render.decimal(width)
    if perimeter:
        twice = f"2 \\times ({l_s} + {w_s})", f"2*({l_s} + {w_s})"
        formula = Step("Perimeter is twice the sum of length and width", *twice)
        hints = [
            "The perimeter is the distance all the way around the rectangle.",
            "Add all four sides: two lengths and two widths.",
        ]
    else:
        formula = Step("Area is length times width", f"{l_s} \\times {w_s}", f"{l_s}*{w_s}")
        hints = [
            "The area of a rectangle is its length times its width.",
            f"Multiply ${l_s}$ by ${w_s}$.",
        ]
    return number_draft(
        stem=f"A rectangle is ${l_s}$ {short} long and ${w_s}$ {short} wide. What is its "
        + (f"perimeter, in {long_}?" if perimeter else f"area, in square {long_}?"),
        problem=f"rectangle_{'perimeter' if perimeter else 'area'}({l_s}, {w_s})",
        value=around if perimeter else area,
        steps=[formula],
        finish="Compute" if perimeter else "Multiply",
        hints=hints,
        candidates=[
            (area if perimeter else around, d.AREA_PERIMETER_CONFUSION),
            (length + width, ADDED_ONLY_TWO_SIDES if perimeter else d.ADDED_INSTEAD_OF_MULTIPLIED),
        ],
        multiple_choice=rng.random() < 0.5,
        decimals=True,
    )


rectangle_area = partial(_rectangle, perimeter=False)
rectangle_perimeter = partial(_rectangle, perimeter=True)


def _height_from_area(rng: Random, base: int, height: int, short: str, long_: str) -> Draft:
    area = render.decimal(Fraction(base * height, 2))
    halved = f"\\frac{{{base}h}}{{2}} = {area}", f"{base}*h/2 = {area}"
    doubled = render.linear(base, 0, "h")
    return _missing_side(
        rng,
        f"A triangle has an area of ${area}$ square {long_} and a base of "
        f"${base}$ {short}. What is its height, in {long_}?",
        f"triangle_area({base}, h) = {area}",
        height,
        [
            Step("Area is half of base times height", *halved),
            eq_step("Multiply both sides by $2$", doubled, render.pair(base * height)),
            solved(f"Divide both sides by ${base}$", "h", height),
        ],
        [
            "The area of a triangle is half of base times height.",
            "Double the area first, then divide by the base.",
        ],
        [
            (Fraction(height, 2), FORGOT_TO_DOUBLE),
            (base * base * height, d.MULTIPLIED_INSTEAD_OF_DIVIDED),
            (Fraction(base * height, 2) - base, d.WRONG_INVERSE_OPERATION),
        ],
    )


def triangle_area(rng: Random, level: int) -> Draft:
    """Level 1: whole answer; 2: a half in the answer; 3: the height from the area."""
    short, long_ = rng.choice(UNITS)
    base, height = render.pick(rng, 2, 20), render.pick(rng, 2, 16)
    if level == 1 and base * height % 2:
        base += 1
    if level == 2 and base * height % 2 == 0:
        base, height = base | 1, height | 1
    if level == 3:
        return _height_from_area(rng, base, height, short, long_)
    half = f"\\frac{{1}}{{2}} \\times {base} \\times {height}"
    return number_draft(
        stem=f"A triangle has a base of ${base}$ {short} and a height of ${height}$ {short}. "
        f"What is its area, in square {long_}?",
        problem=f"triangle_area({base}, {height})",
        value=Fraction(base * height, 2),
        steps=[Step("Area is half of base times height", half, f"{base}*{height}/2")],
        finish="Compute",
        hints=[
            "The area of a triangle is half of base times height.",
            f"Find ${base} \\times {height}$, then halve it.",
        ],
        candidates=[
            (base * height, d.FORGOT_TO_HALVE),
            (base + height, d.ADDED_INSTEAD_OF_MULTIPLIED),
        ],
        multiple_choice=rng.random() < 0.4,
        decimals=True,
    )


def _times_pi(coef: Fraction, exact: bool) -> tuple[Fraction, render.Pair]:
    """coef*pi as an answer writes it, exact or rounded to the nearest tenth, and its value."""
    if exact:
        return coef, (f"{render.num_latex(coef)}\\pi", f"{render.num_plain(coef)}*pi")
    value = PI * coef.numerator / coef.denominator
    tenths = Fraction(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    return tenths, (render.decimal(tenths), render.decimal(tenths))


def _circle_size(rng: Random, level: int) -> tuple[int, Fraction, str]:
    """(the number shown, the radius, 'radius' or 'diameter'); level 3 shows the diameter."""
    if level == 3:
        diameter = render.pick(rng, 3, 50)
        return diameter, Fraction(diameter, 2), "diameter"
    radius = render.pick(rng, 2, 30)
    return radius, Fraction(radius), "radius"


def _circle_parts(r: Fraction, word: str, area: bool) -> tuple[Wrongs, render.Pair, list[str]]:
    """A circle question's wrong answers (as multiples of pi), formula and hints."""
    if area:
        wrongs: Wrongs = [(2 * r, d.AREA_PERIMETER_CONFUSION), (r, "forgot_to_square_the_radius")]
        formula = f"\\pi \\times {render.num_latex(r)}^{{2}}", f"pi*({render.num_plain(r)})**2"
        hints = [
            "The area of a circle is $\\pi r^2$.",
            "The radius is half the diameter."
            if word == "diameter"
            else "Square the radius first, then multiply by $\\pi$.",
        ]
    else:
        wrongs = [(r * r, d.AREA_PERIMETER_CONFUSION), (r, FORGOT_TO_DOUBLE)]
        formula = f"2 \\pi \\times {render.num_latex(r)}", f"2*pi*{render.num_plain(r)}"
        hints = [
            "The circumference of a circle is $2\\pi r$, or $\\pi d$.",
            "Use $\\pi d$ directly with the diameter."
            if word == "diameter"
            else "Double the radius, then multiply by $\\pi$.",
        ]
    return wrongs, formula, hints


def _circle(rng: Random, level: int, area: bool) -> Draft:
    """Level 1: exact, in terms of pi; 2: rounded, graded with a tolerance; 3: from the diameter."""
    short, long_ = rng.choice(UNITS)
    shown, r, word = _circle_size(rng, level)
    wrongs, formula, hints = _circle_parts(r, word, area)
    name = "circle_area" if area else "circumference"
    if word == "diameter":
        name += "_from_diameter"
        wrongs.insert(0, (shown * shown if area else 2 * shown, "used_diameter_as_radius"))
    question = f"area, in square {long_}" if area else f"circumference, in {long_}"
    coef, exact = r * r if area else 2 * r, level == 1
    multiple_choice = level > 1 and rng.random() < 0.4

    def wrong(c: render.Number, tag: str) -> Candidate:
        canon, answer = _times_pi(Fraction(c), exact)
        return canon, Wrong.of(answer, tag)

    key, answer = _times_pi(coef, exact)
    steps = [Step("Use the formula", *formula), Step("Simplify", *_times_pi(coef, True)[1])]
    if not exact:
        steps.append(Step("Round to the nearest tenth", *answer))
    policy = AnswerPolicy.EQUIVALENT if exact else AnswerPolicy.NUMERIC_TOLERANCE
    tail = " Give an exact answer in terms of $\\pi$." if exact else " Round to the nearest tenth."
    return draft(
        (CheckKind.VALUE, ItemType.NUMERIC, policy),
        stem=f"A circle has a {word} of ${shown}$ {short}. What is its {question}?{tail}",
        problem=f"{name}({shown})",
        answer=answer,
        key=key,
        steps=steps,
        hints=hints,
        candidates=[wrong(c, tag) for c, tag in wrongs],
        top_up=(lambda i: wrong(coef + i + 1, d.ARITHMETIC_SLIP)) if multiple_choice else None,
        multiple_choice=multiple_choice,
        tolerance=None if exact else TENTH_TOLERANCE,
    )


circle_area = partial(_circle, area=True)
circumference = partial(_circle, area=False)
