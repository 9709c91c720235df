"""Fraction arithmetic: adding, subtracting, multiplying and dividing fractions.

Keys are in lowest terms and use the exact-form policy, since reducing is part of the skill.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from fractions import Fraction
from functools import partial
from math import gcd, lcm
from random import Random

from practicegen.generation.procedural import distractors as d
from practicegen.generation.procedural.base import Draft, Step
from practicegen.generation.procedural.render import num_latex, num_plain, pair, pick
from practicegen.generation.procedural.steps import number_draft
from practicegen.ports import AnswerPolicy

Operands = tuple[Fraction, Fraction]
Wrongs = list[tuple[Fraction, str]]
INSTRUCTION = "Give your answer as a fraction in lowest terms (or a whole number)."


def _proper(rng: Random, den_lo: int = 2, den_hi: int = 12) -> Fraction:
    den = pick(rng, den_lo, den_hi)
    num = rng.choice([n for n in range(1, den) if gcd(n, den) == 1])
    return Fraction(num, den)


def _mixed(rng: Random) -> Fraction:
    return pick(rng, 1, 3) + _proper(rng, 2, 6)


def _show(q: Fraction, mixed: bool, first: bool = False) -> tuple[str, str]:
    """A fraction as an operand: mixed numbers as 2\\frac{1}{3}, later negatives in parentheses."""
    if mixed and q > 1 and q.denominator > 1:
        whole, part = divmod(q.numerator, q.denominator)
        return f"{whole}\\frac{{{part}}}{{{q.denominator}}}", f"({whole} + {part}/{q.denominator})"
    latex, plain = num_latex(q), num_plain(q)
    return (
        (f"\\left({latex}\\right)", f"({plain})") if q < 0 and not first else (latex, f"({plain})")
    )


def _pair(rng: Random, level: int, same_denominator: bool) -> Operands:
    if level == 1 and same_denominator:
        den = pick(rng, 3, 12)
        nums = [n for n in range(1, den) if gcd(n, den) == 1]
        a, b = rng.sample(nums, 2) if len(nums) > 1 else (nums[0], nums[0])
        return Fraction(a, den), Fraction(b, den)
    if level == 3 and rng.random() < 0.5:
        return _mixed(rng), _mixed(rng)
    hi = 10 if level == 3 else 12
    x, y = _proper(rng, 2, hi), _proper(rng, 2, hi)
    if level == 3:
        x, y = (-x, y) if rng.random() < 0.5 else (x, -y)
    return x, y


def _naive(x: Fraction, y: Fraction, op: Callable[[int, int], int]) -> Fraction | None:
    """Numerators and denominators combined separately (a misconception for + and -)."""
    den = op(x.denominator, y.denominator)
    return Fraction(op(x.numerator, y.numerator), den) if den else None


def _draft(
    symbol: str,
    x: Fraction,
    y: Fraction,
    value: Fraction,
    steps: list[Step],
    hints: list[str],
    wrongs: Wrongs,
    level: int,
    multiple_choice: bool,
) -> Draft:
    mixed = level == 3
    (xl, xp), (yl, yp) = _show(x, mixed, first=True), _show(y, mixed)
    plain_op = {"+": "+", "-": "-", "\\times": "*", "\\div": "/"}[symbol]
    return number_draft(
        stem=f"Compute ${xl} {symbol} {yl}$." + ("" if multiple_choice else f"\n\n{INSTRUCTION}"),
        problem=f"{xp} {plain_op} {yp}",
        value=value,
        steps=steps,
        hints=hints,
        candidates=wrongs,
        policy=AnswerPolicy.EXACT_FORM,
        multiple_choice=multiple_choice,
    )


def _over(num: int, den: int) -> str:
    """num/den as an unreduced LaTeX fraction, the sign in front: -\\frac{12}{15}."""
    return f"{'-' if num < 0 else ''}\\frac{{{abs(num)}}}{{{den}}}"


def _common_denominator_steps(x: Fraction, y: Fraction, sign: int) -> list[Step]:
    n = lcm(x.denominator, y.denominator)
    a, b = x.numerator * (n // x.denominator), y.numerator * (n // y.denominator)
    value = x + sign * y
    op, verb = ("+", "Add") if sign > 0 else ("-", "Subtract")
    steps = []
    if x.denominator != y.denominator:
        second = f"\\left({_over(b, n)}\\right)" if b < 0 else _over(b, n)
        rewritten = f"{_over(a, n)} {op} {second}", f"{a}/{n} {op} ({b}/{n})"
        steps.append(Step(f"Rewrite both over the common denominator ${n}$", *rewritten))
    combined = a + sign * b
    steps.append(Step(f"{verb} the numerators", _over(combined, n), f"{combined}/{n}"))
    if Fraction(combined, n).denominator != n:
        steps.append(Step("Simplify", num_latex(value), num_plain(value)))
    return steps


def _add_or_subtract(rng: Random, level: int, sign: int) -> Draft:
    x, y = _pair(rng, level, same_denominator=True)
    if sign < 0 and level < 3 and x < y:
        x, y = y, x
    value = x + sign * y
    op = operator.add if sign > 0 else operator.sub
    wrongs: Wrongs = [(x - sign * y, d.SIGN_ERROR if sign > 0 else d.ADDED_INSTEAD_OF_SUBTRACTED)]
    naive = _naive(x, y, op)
    if naive is not None:
        wrongs.insert(0, (naive, d.ADDED_NUMERATORS_AND_DENOMINATORS))
    product = x.denominator * y.denominator
    wrongs.append((Fraction(op(x.numerator, y.numerator), product), "multiplied_denominators_only"))
    hints = [
        "Fractions can be added or subtracted only when they have the same denominator.",
        f"Use the least common denominator ${lcm(x.denominator, y.denominator)}$."
        if x.denominator != y.denominator
        else "Keep the denominator and combine the numerators.",
        "Reduce the result to lowest terms.",
    ]
    if level == 3 and x > 1:
        hints[0] = "Write each mixed number as an improper fraction first."
    symbol = "+" if sign > 0 else "-"
    steps = _common_denominator_steps(x, y, sign)
    multiple_choice = sign > 0 and level <= 2 and rng.random() < 0.5
    return _draft(symbol, x, y, value, steps, hints, wrongs, level, multiple_choice)


add = partial(_add_or_subtract, sign=1)
subtract = partial(_add_or_subtract, sign=-1)


def _product_steps(x: Fraction, y: Fraction) -> list[Step]:
    num, den = x.numerator * y.numerator, x.denominator * y.denominator
    steps = [Step("Multiply numerators and denominators", _over(num, den), f"{num}/{den}")]
    if Fraction(num, den).denominator != den:
        steps.append(Step("Simplify", num_latex(x * y), num_plain(x * y)))
    return steps


def _operands_for_product(rng: Random, level: int) -> Operands:
    if level == 2:
        whole = Fraction(pick(rng, 2, 9))
        frac = _proper(rng)
        return (whole, frac) if rng.random() < 0.5 else (frac, whole)
    return _pair(rng, level, same_denominator=False)


def multiply(rng: Random, level: int) -> Draft:
    x, y = _operands_for_product(rng, level)
    wrongs: Wrongs = [
        (Fraction(x.numerator * y.denominator, x.denominator * y.numerator), d.INVERTED_FRACTION),
        (
            Fraction(x.numerator * y.numerator, max(x.denominator, y.denominator)),
            "kept_the_denominator",
        ),
        (x + y, d.ADDED_INSTEAD_OF_MULTIPLIED),
    ]
    hints = [
        "Multiply the numerators together and the denominators together.",
        "A whole number is a fraction over $1$."
        if level == 2
        else "You can cancel common factors before multiplying.",
        "Reduce the result to lowest terms.",
    ]
    if level == 3 and (x > 1 or y > 1):
        hints[1] = "Write each mixed number as an improper fraction first."
    steps = _product_steps(x, y)
    return _draft("\\times", x, y, x * y, steps, hints, wrongs, level, multiple_choice=False)


def divide(rng: Random, level: int) -> Draft:
    x, y = _operands_for_product(rng, level)
    reciprocal = 1 / y
    wrongs: Wrongs = [
        (x * y, "multiplied_without_inverting"),
        (y / x, "inverted_wrong_fraction"),
        (1 / (x * y), "inverted_both_fractions"),
    ]
    (xl, xp), (rl, rp) = _show(x, level == 3, first=True), pair(reciprocal)
    steps = [Step(f"Multiply by the reciprocal ${rl}$", f"{xl} \\times {rl}", f"{xp} * ({rp})")]
    steps += _product_steps(x, reciprocal)
    hints = [
        "Dividing by a fraction is the same as multiplying by its reciprocal.",
        f"Flip the second number: the reciprocal of ${num_latex(y)}$ is ${rl}$.",
        "Then multiply and reduce to lowest terms.",
    ]
    multiple_choice = rng.random() < 0.5
    return _draft("\\div", x, y, x / y, steps, hints, wrongs, level, multiple_choice)
