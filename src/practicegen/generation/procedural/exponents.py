"""Exponents: the product, quotient and power rules on monomials, and evaluating powers.

Keys use positive exponents (`1/x**3`); simplifying is the skill, so rules items are exact-form.
"""

from __future__ import annotations

from fractions import Fraction
from random import Random

from practicegen.generation.procedural import distractors as d
from practicegen.generation.procedural.base import CheckKind, Draft, Step, Wrong
from practicegen.generation.procedural.render import Number, Pair, num_latex, num_plain, pick, poly
from practicegen.generation.procedural.steps import Candidate, draft, number_draft
from practicegen.ports import AnswerPolicy, ItemType

Mono = tuple[int, int]  # (coefficient, exponent of x)
Wrongs = list[tuple[Number, str]]


def _mono(c: int, n: int) -> Pair:
    """c*x^n in simplest form, a negative exponent written as a fraction."""
    if n < 0:
        return f"\\frac{{{c}}}{{x^{{{-n}}}}}", f"{c}/x**{-n}"
    return poly([(c, "" if n == 0 else "x" if n == 1 else f"x**{n}")])


def _raw(n: int) -> Pair:
    """x^n as given in a problem, whatever the exponent."""
    return f"x^{{{n}}}", f"x**({n})"


def _wrong(c: int, n: int, tag: str) -> Candidate:
    return (c, n), Wrong.of(_mono(c, n), tag)


Problem = tuple[str, str, Mono, list[Candidate], str]  # + the rule's name


def _product(a: int, b: int) -> Problem:
    x_a, x_b = _raw(a), _raw(b)
    wrongs = [
        _wrong(1, a * b, d.MULTIPLIED_EXPONENTS),
        _wrong(2, a + b, d.ADDED_INSTEAD_OF_MULTIPLIED),
    ]
    return f"{x_a[0]} \\cdot {x_b[0]}", f"{x_a[1]}*{x_b[1]}", (1, a + b), wrongs, "product"


def _quotient(a: int, b: int) -> Problem:
    a = b + a  # the numerator's exponent is the larger
    wrongs = [_wrong(1, a + b, d.ADDED_EXPONENTS), _wrong(1, a * b, d.MULTIPLIED_EXPONENTS)]
    if a % b == 0:
        wrongs.append(_wrong(1, a // b, "divided_exponents_instead_of_subtracting"))
    latex = f"\\frac{{{_raw(a)[0]}}}{{{_raw(b)[0]}}}"
    return latex, f"{_raw(a)[1]}/{_raw(b)[1]}", (1, a - b), wrongs, "quotient"


def _power_of_power(a: int, b: int) -> Problem:
    wrongs = [_wrong(1, a + b, d.ADDED_EXPONENTS), _wrong(b, a, d.MULTIPLIED_BASE_BY_EXPONENT)]
    latex = f"\\left(x^{{{a}}}\\right)^{{{b}}}"
    return latex, f"(x**({a}))**({b})", (1, a * b), wrongs, "power"


def _coefficient_power(a: int, c: int, e: int) -> Problem:
    wrongs = [
        _wrong(c, a * e, "forgot_to_raise_coefficient"),
        _wrong(c * e, a * e, d.MULTIPLIED_BASE_BY_EXPONENT),
        _wrong(c**e, a + e, d.ADDED_EXPONENTS),
    ]
    latex = f"\\left({c}x^{{{a}}}\\right)^{{{e}}}"
    return latex, f"({c}*x**({a}))**({e})", (c**e, a * e), wrongs, "power"


def _negative_result(c: int, top: int, bottom: int) -> Problem:
    wrongs = [
        _wrong(c, bottom - top, d.SIGN_ERROR),
        _wrong(c, top + bottom, d.ADDED_EXPONENTS),
        _wrong(-c, bottom - top, d.NEGATIVE_EXPONENT_AS_NEGATIVE),
    ]
    latex = f"\\frac{{{c}x^{{{top}}}}}{{x^{{{bottom}}}}}"
    return latex, f"{c}*x**({top})/x**({bottom})", (c, top - bottom), wrongs, "quotient"


def _rules_problem(rng: Random, level: int) -> Problem:
    a, b = pick(rng, 2, 12), pick(rng, 2, 6)
    if level == 1:
        return _product(a, pick(rng, 2, 8))  # its multiplied-exponents distractor stays <= 96
    if level == 2:
        return _quotient(pick(rng, 1, 8), b) if rng.random() < 0.5 else _power_of_power(a, b)
    c = pick(rng, 2, 5)
    if level == 3:
        return _coefficient_power(a, c, pick(rng, 2, 3))
    return _negative_result(c, pick(rng, 2, 6), pick(rng, 7, 12))


RULES = {
    "product": (
        "When multiplying powers of the same base, add the exponents.",
        "x^a \\cdot x^b = x^{a+b}",
    ),
    "quotient": (
        "When dividing powers of the same base, subtract the exponents.",
        "\\frac{x^a}{x^b} = x^{a-b}",
    ),
    "power": ("When raising a power to a power, multiply the exponents.", "(x^a)^b = x^{ab}"),
}


def rules(rng: Random, level: int) -> Draft:
    """Product rule; quotient or power rule; with a coefficient; a negative result exponent."""
    latex, plain, (c, n), candidates, rule = _rules_problem(rng, level)
    answer = _mono(c, n)
    law, formula = RULES[rule]
    steps = [Step(f"Apply ${formula}$", f"{c if c != 1 else ''}x^{{{n}}}", f"{c}*x**({n})")]
    if n < 0:
        steps.append(Step("Write the negative exponent as a fraction", *answer))
    multiple_choice = level <= 3 or rng.random() < 0.5
    tail = "\n\nChoose the equivalent expression." if multiple_choice else ""
    if n < 0 and not multiple_choice:
        tail = "\n\nWrite your answer with a positive exponent."
    return draft(
        (CheckKind.EXPRESSION, ItemType.EXPRESSION, AnswerPolicy.EXACT_FORM),
        stem=f"Simplify ${latex}$.{tail}",
        problem=plain,
        answer=answer,
        key=(c, n),
        steps=steps,
        hints=[
            "The rules of exponents work when the bases are the same.",
            law,
            "A coefficient is raised to the power too; a negative exponent means a reciprocal."
            if level >= 3
            else f"${formula}$",
        ],
        candidates=candidates,
        top_up=lambda i: _wrong(c, n + i + 1, d.ARITHMETIC_SLIP),
        multiple_choice=multiple_choice,
    )


def _power(base: Number, n: int) -> Pair:
    if isinstance(base, Fraction) and base.denominator != 1:
        return f"\\left({num_latex(base)}\\right)^{{{n}}}", f"({num_plain(base)})**({n})"
    if base < 0:
        return f"({base})^{{{n}}}", f"({base})**({n})"
    return f"{base}^{{{n}}}", f"{base}**({n})"


SMALL_POWERS = tuple((b, n) for b in range(2, 16) for n in range(2, 11) if b**n <= 1024)


def _evaluation(rng: Random, level: int) -> tuple[Pair, Number, Wrongs]:
    """(the power shown, its value, wrong answers)."""
    base, n = pick(rng, 2, 9), pick(rng, 2, 4)
    if level == 1:
        base, n = rng.choice(SMALL_POWERS)
        wrongs: Wrongs = [
            (base * n, d.MULTIPLIED_BASE_BY_EXPONENT),
            (base ** (n - 1), d.ARITHMETIC_SLIP),
        ]
        return _power(base, n), base**n, wrongs
    if level == 2:
        if rng.random() < 0.5:
            shown, value = _power(-base, n), (-base) ** n
        else:
            shown, value = (f"-{base}^{{{n}}}", f"-{base}**({n})"), -(base**n)
        return shown, value, [(-value, d.SIGN_ERROR), (-base * n, d.MULTIPLIED_BASE_BY_EXPONENT)]
    base = pick(rng, 2, 10)
    fraction = Fraction(base, rng.choice((1, 1, 3, 5)))
    if rng.random() < 0.15:
        zero: Wrongs = [(0, "zero_exponent_gives_zero"), (fraction, "zero_exponent_gives_the_base")]
        return _power(fraction, 0), 1, zero
    n = -pick(rng, 1, 3 if base < 6 else 2)
    positive = fraction ** (-n)
    wrongs = [
        (-positive, d.NEGATIVE_EXPONENT_AS_NEGATIVE),
        (-(1 / positive), "took_the_negative_reciprocal"),
        (positive, "ignored_the_negative_sign_of_the_exponent"),
        (fraction * n, d.MULTIPLIED_BASE_BY_EXPONENT),
    ]
    return _power(fraction, n), fraction**n, wrongs


def evaluate(rng: Random, level: int) -> Draft:
    """Positive powers; negative bases (and -a^n); zero and negative exponents."""
    shown, value, wrongs = _evaluation(rng, level)
    rule = (
        "Multiply the base by itself as many times as the exponent says"
        if level < 3
        else "Use $a^{-n} = \\frac{1}{a^n}$ and $a^0 = 1$"
    )
    return number_draft(
        stem=f"Evaluate ${shown[0]}$.",
        problem=shown[1],
        value=value,
        steps=[],
        finish=rule,
        hints=[
            "An exponent counts how many times the base is multiplied by itself.",
            "Without parentheses, the exponent applies before the minus sign."
            if level == 2
            else "A negative exponent means a reciprocal; a nonzero number to the power 0 is 1.",
        ],
        candidates=wrongs,
        multiple_choice=rng.random() < 0.5,
    )
