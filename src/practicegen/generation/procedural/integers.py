"""Integer operations: adding and subtracting signed numbers, multiplying and dividing them.

The misconceptions are about signs, so every wrong answer here is a sign or direction slip.
"""

from __future__ import annotations

from fractions import Fraction
from random import Random

from practicegen.generation.procedural import distractors as d
from practicegen.generation.procedural.base import Draft, Step
from practicegen.generation.procedural.render import operand, pick, signed
from practicegen.generation.procedural.steps import number_draft

Wrongs = list[tuple[Fraction, str]]


def _terms(rng: Random, level: int) -> tuple[list[int], list[str]]:
    if level == 1:
        a, b = signed(rng, 1, 20), signed(rng, 1, 20)
        if a > 0 and b > 0:
            a = -a
        return [a, b], ["+"]
    if level == 2:
        a, b = signed(rng, 1, 20), signed(rng, 1, 20)
        return [a, -abs(b) if a > 0 else b], ["-"]
    count = pick(rng, 3, 4)
    values = [signed(rng, 1, 15) for _ in range(count)]
    ops = [rng.choice("+-") for _ in range(count - 1)]
    if all(v > 0 for v in values):
        values[1] = -values[1]
    return values, ops


def add_subtract(rng: Random, level: int) -> Draft:
    """Level 1: adding with one negative; 2: subtracting signed numbers; 3: three or four terms."""
    values, ops = _terms(rng, level)
    shown = operand(values[0], first=True)
    as_sums = [values[0]]
    for op, v in zip(ops, values[1:], strict=True):
        shown += f" {op} {operand(v)}"
        as_sums.append(v if op == "+" else -v)
    value = sum(as_sums)
    rewritten = " + ".join(operand(v, i == 0) for i, v in enumerate(as_sums))
    sums = " + ".join(f"({v})" for v in as_sums)
    naive = values[0] + sum(
        -abs(v) if op == "-" else v for op, v in zip(ops, values[1:], strict=True)
    )
    return number_draft(
        stem=f"Compute ${shown}$.",
        problem=shown,
        value=value,
        steps=[Step("Rewrite each subtraction as adding the opposite", rewritten, sums)],
        finish="Add from left to right",
        hints=[
            "Subtracting a number is the same as adding its opposite.",
            "With different signs, subtract the sizes and keep the sign of the larger one.",
        ],
        candidates=[
            (Fraction(-value), d.SIGN_ERROR),
            (Fraction(naive), "subtracted_a_negative_as_a_negative"),
            (Fraction(sum(abs(v) for v in values)), "added_magnitudes_ignoring_signs"),
        ],
        multiple_choice=level > 1 and rng.random() < 0.4,
    )


Problem = tuple[str, str, int, list[Step], Wrongs]


def _sign_step(operands: tuple[int, ...], value: int) -> Step:
    negatives = sum(v < 0 for v in operands)
    parity = "an odd" if negatives % 2 else "an even"
    text = f"Work with the sizes; {parity} number of negative signs ({negatives}) gives the sign"
    return Step(text, str(value), str(value))


def _product_problem(rng: Random, level: int) -> Problem:
    """(LaTeX, plain, value, worked steps, wrong answers)."""
    if level == 1:
        a, b = signed(rng, 2, 12), signed(rng, 2, 12)
        b = -abs(b) if a > 0 else b
        wrongs: Wrongs = [(Fraction(a + b), d.ADDED_INSTEAD_OF_MULTIPLIED)]
        latex = f"{a} \\times {operand(b)}"
        return latex, f"{a}*({b})", a * b, [_sign_step((a, b), a * b)], wrongs
    if level == 2:
        b, q = signed(rng, 2, 12), signed(rng, 2, 12)
        q = -abs(q) if b > 0 else q
        a = b * q
        wrongs = [(Fraction(a * b), d.MULTIPLIED_INSTEAD_OF_DIVIDED)]
        return f"{a} \\div {operand(b)}", f"{a}/({b})", q, [_sign_step((a, b), q)], wrongs
    b, c, q = signed(rng, 2, 6), signed(rng, 2, 6), signed(rng, 2, 9)
    c = -abs(c) if b > 0 and q > 0 else c
    a, first = b * c * q, c * q
    text = f"Divide first, working left to right (${a} \\div {operand(b)} = {first}$)"
    times = f"{first} \\times {operand(c)}", f"{first}*{operand(c)}"
    steps = [Step(text, *times), _sign_step((first, c), first * c)]
    latex = f"{a} \\div {operand(b)} \\times {operand(c)}"
    return latex, f"{a}/({b})*({c})", first * c, steps, [(Fraction(q), d.WRONG_OPERATION_ORDER)]


def multiply_divide(rng: Random, level: int) -> Draft:
    """Level 1: products; 2: quotients; 3: a division then a product, left to right."""
    latex, plain, value, steps, wrongs = _product_problem(rng, level)
    return number_draft(
        stem=f"Compute ${latex}$.",
        problem=plain,
        value=value,
        steps=steps,
        hints=[
            "Multiply or divide the sizes first, then decide the sign.",
            "An even number of negative signs gives a positive result; an odd number, negative.",
        ],
        candidates=[(Fraction(-value), d.SIGN_ERROR), *wrongs],
        multiple_choice=rng.random() < 0.5,
    )
