"""Percentages: a percent of a number, prices after a discount or increase, and percent change.

Problems are named quantities (`discounted(80, 25)`) that the check evaluates with its own formulas.
"""

from __future__ import annotations

from fractions import Fraction
from math import gcd
from random import Random

from practicegen.generation.procedural import distractors as d
from practicegen.generation.procedural.base import Draft, Step
from practicegen.generation.procedural.render import decimal, pick
from practicegen.generation.procedural.steps import number_draft

BENCHMARKS = (10, 20, 25, 50, 75)


def _percent_and_base(rng: Random, level: int) -> tuple[Fraction, int]:
    """(percent, base) with a whole-number result at levels 1-2 and a terminating one at 3."""
    if level == 1:
        p = rng.choice(BENCHMARKS)
        return Fraction(p), pick(rng, 1, 20) * (100 // gcd(p, 100))
    if level == 2:
        p = rng.choice([v for v in range(2, 99) if gcd(v, 100) >= 4])
        step = 100 // gcd(p, 100)
        return Fraction(p), step * pick(rng, 1, max(2, 300 // step))
    if rng.random() < 0.5:
        return Fraction(pick(rng, 101, 250)), pick(rng, 2, 80) * 2
    return Fraction(pick(rng, 1, 39) * 2 + 1, 2), pick(rng, 1, 40) * 4


def percent_of(rng: Random, level: int) -> Draft:
    """Level 1: benchmark percents; 2: any whole percent; 3: over 100% or a half percent."""
    p, n = _percent_and_base(rng, level)
    value = p * n / 100
    shown, rate = decimal(p), decimal(p / 100)
    times = f"{rate} \\times {n}"
    return number_draft(
        stem=f"What is ${shown}\\%$ of ${n}$?",
        problem=f"percent_of({shown}, {n})",
        value=value,
        steps=[Step(f"Write ${shown}\\%$ as a decimal and multiply", times, f"{rate} * {n}")],
        finish="Multiply",
        hints=[
            "Percent means per hundred: divide the percent by $100$.",
            f"${shown}\\%$ of ${n}$ is ${times}$.",
        ],
        candidates=[
            (p * n, "forgot_to_divide_by_100"),
            (value * 10, d.DECIMAL_POINT_MISPLACED),
            (value / 10, d.DECIMAL_POINT_MISPLACED),
            (Fraction(n) - value, "found_the_rest_not_the_part"),
        ],
        multiple_choice=rng.random() < 0.5,
        decimals=True,
    )


def _new_price(rng: Random, increase: bool) -> Draft:
    price, p = pick(rng, 2, 60) * 4, pick(rng, 1, 19) * 5
    change = Fraction(price * p, 100)
    value = price + change if increase else price - change
    name, sign = ("increased", "+") if increase else ("discounted", "-")
    return number_draft(
        stem=f"A price of ${price}$ dollars is {name} by ${p}\\%$. "
        "What is the new price in dollars?",
        problem=f"{name}({price}, {p})",
        value=value,
        steps=[
            Step(
                f"Find ${p}\\%$ of ${price}$ (${decimal(Fraction(p, 100))} \\times {price} = "
                f"{decimal(change)}$) and {'add it to' if increase else 'take it from'} the price",
                f"{price} {sign} {decimal(change)}",
                f"{price} {sign} {decimal(change)}",
            ),
        ],
        finish="Compute",
        hints=[
            f"First find ${p}\\%$ of ${price}$.",
            "Then add that amount to the price." if increase else "Then subtract that amount.",
        ],
        candidates=[
            (change, "gave_the_change_not_the_new_value"),
            (
                price - change if increase else price + change,
                d.SUBTRACTED_INSTEAD_OF_ADDED if increase else d.ADDED_INSTEAD_OF_SUBTRACTED,
            ),
            (Fraction(price + p if increase else price - p), "subtracted_the_percent_as_a_number"),
        ],
        multiple_choice=rng.random() < 0.6,
        decimals=True,
    )


def _percent_change(rng: Random) -> Draft:
    old = pick(rng, 2, 40) * 5
    p = pick(rng, 1, 19) * 5 * rng.choice((1, -1))
    new = Fraction(old * (100 + p), 100)
    change = abs(new - old)
    word = "increase" if p > 0 else "decrease"
    shown = decimal(change)
    work = f"The change is ${shown}$; divide it by the original value and multiply by $100$"
    return number_draft(
        stem=f"A value changes from ${old}$ to ${decimal(new)}$. What is the percent {word}? "
        "Answer with the number of percent (for example, $12$ for $12\\%$).",
        problem=f"percent_{word}({old}, {decimal(new)})",
        value=abs(p),
        steps=[Step(work, f"\\frac{{{shown}}}{{{old}}} \\times 100", f"{shown}/{old}*100")],
        finish="Compute",
        hints=[
            "Percent change compares the change with the original value.",
            f"Divide the change by the original value, ${old}$, then multiply by $100$.",
        ],
        candidates=[
            (change, "difference_not_percent"),
            (change * 100 / new, "percent_of_new_value"),
            (Fraction(abs(p), 100), "forgot_to_multiply_by_100"),
        ],
        multiple_choice=rng.random() < 0.6,
        decimals=True,
    )


def percent_change(rng: Random, level: int) -> Draft:
    """Level 1: price after a discount; 2: after an increase; 3: the percent change itself."""
    return _percent_change(rng) if level == 3 else _new_price(rng, increase=level == 2)
