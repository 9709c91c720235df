"""Decimal arithmetic: adding and subtracting with place value, multiplying and dividing.

Operands have power-of-ten denominators, so every key is a terminating decimal, written as one.
"""

from __future__ import annotations

from fractions import Fraction
from random import Random

from practicegen.generation.procedural import distractors as d
from practicegen.generation.procedural.base import Draft, Step
from practicegen.generation.procedural.render import decimal, operand, pick
from practicegen.generation.procedural.steps import number_draft


def _dec(rng: Random, places: int, lo: int, hi: int) -> Fraction:
    """A decimal with exactly `places` decimal places (its last digit is not 0) in [lo, hi)."""
    scale = 10**places
    units = pick(rng, lo * scale + 1, hi * scale - 1)
    while places and units % 10 == 0:
        units = pick(rng, lo * scale + 1, hi * scale - 1)
    return Fraction(units, scale)


def _places(q: Fraction) -> int:
    return len(decimal(q).partition(".")[2])


def _misaligned(x: Fraction, y: Fraction, sign: int) -> Fraction | None:
    """Digits lined up on the right instead of at the decimal point."""
    px, py = _places(x), _places(y)
    if px == py:
        return None
    ten = Fraction(10)
    return (x * ten**px + sign * y * ten**py) / ten ** max(px, py)


def add_subtract(rng: Random, level: int) -> Draft:
    """Level 1: tenths, sums; 2: different places, differences; 3: negatives."""
    if level == 1:
        x, y, sign = _dec(rng, 1, 1, 20), _dec(rng, 1, 1, 20), 1
    else:
        x, y = _dec(rng, rng.choice((1, 2)), 1, 30), _dec(rng, 2, 0, 10)
        sign = -1 if level == 2 or rng.random() < 0.5 else 1
        if level == 2 and x < y:
            x, y = y, x
        if level == 3:
            x, y = (-x, y) if rng.random() < 0.5 else (x, -y)
    value = x + sign * y
    shown = f"{operand(x, first=True)} {'+' if sign > 0 else '-'} {operand(y)}"
    wrongs: list[tuple[Fraction, str]] = [(x - sign * y, d.SIGN_ERROR)]
    misaligned = _misaligned(x, y, sign)
    if misaligned is not None:
        wrongs.insert(0, (misaligned, "place_value_misaligned"))
    wrongs.append((value * 10, d.DECIMAL_POINT_MISPLACED))
    return number_draft(
        stem=f"Compute ${shown}$.",
        problem=shown,
        value=value,
        steps=[],
        finish="Line up the decimal points and combine digit by digit",
        hints=[
            "Line up the decimal points; write extra zeros so both numbers have the same places.",
            "Adding a negative number is subtracting; subtracting a negative number is adding."
            if level == 3
            else "Work from the rightmost place, carrying or borrowing as with whole numbers.",
        ],
        candidates=wrongs,
        multiple_choice=level > 1 and rng.random() < 0.4,
        decimals=True,
    )


def multiply_divide(rng: Random, level: int) -> Draft:
    """Level 1: decimal times whole number; 2: decimal times decimal; 3: divide by a decimal."""
    if level == 1:
        x, y = _dec(rng, 1, 0, 10), Fraction(pick(rng, 2, 9))
    elif level == 2:
        x, y = _dec(rng, 1, 0, 10), _dec(rng, rng.choice((1, 2)), 0, 2)
    else:
        quotient, y = Fraction(pick(rng, 2, 40)), _dec(rng, rng.choice((1, 2)), 0, 2)
        if rng.random() < 0.4:
            quotient = _dec(rng, 1, 1, 10)
        x = quotient * y
        return _divide(rng, x, y)
    value = x * y
    places = _places(x) + _places(y)
    digits = str(int(x * 10 ** _places(x) * y * 10 ** _places(y)))
    scaled = f"{digits}/10**{places}"
    return number_draft(
        stem=f"Compute ${decimal(x)} \\times {decimal(y)}$.",
        problem=f"{decimal(x)} * {decimal(y)}",
        value=value,
        steps=[Step("Multiply as whole numbers, ignoring the decimal points", digits, scaled)],
        finish=f"Place the decimal point so the product has ${places}$ decimal places",
        hints=[
            "Multiply as if there were no decimal points.",
            "The product has as many decimal places as the two factors together.",
        ],
        candidates=[
            (value * 10, d.DECIMAL_POINT_MISPLACED),
            (value / 10, d.DECIMAL_POINT_MISPLACED),
            (x + y, d.ADDED_INSTEAD_OF_MULTIPLIED),
        ],
        multiple_choice=rng.random() < 0.4,
        decimals=True,
    )


def _divide(rng: Random, x: Fraction, y: Fraction) -> Draft:
    shift = 10 ** _places(y)
    value = x / y
    a, b = decimal(x * shift), decimal(y * shift)
    text = f"Multiply both numbers by ${shift}$ so the divisor is whole"
    return number_draft(
        stem=f"Compute ${decimal(x)} \\div {decimal(y)}$.",
        problem=f"{decimal(x)} / {decimal(y)}",
        value=value,
        steps=[Step(text, f"{a} \\div {b}", f"{a} / {b}")],
        finish="Divide",
        hints=[
            "Make the divisor a whole number first.",
            "Move the decimal point the same number of places in both numbers.",
        ],
        candidates=[
            (value / 10, d.DECIMAL_POINT_MISPLACED),
            (value * 10, d.DECIMAL_POINT_MISPLACED),
            (x * y, d.MULTIPLIED_INSTEAD_OF_DIVIDED),
        ],
        multiple_choice=rng.random() < 0.4,
        decimals=True,
    )
