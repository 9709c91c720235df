"""Order of operations: evaluating expressions where working left to right gives a wrong answer.

Each template builds an expression from whole numbers (divisions come out exact), its value,
the value a student gets by a named wrong order, and the worked steps innermost first.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from random import Random

from practicegen.generation.procedural import distractors as d
from practicegen.generation.procedural.base import Draft, Step
from practicegen.generation.procedural.render import pick
from practicegen.generation.procedural.steps import number_draft

IGNORED_PARENTHESES = "ignored_parentheses"
SQUARED_THE_PRODUCT = "applied_exponent_to_the_whole_product"
NEGATIVE_BASE_SQUARED = "squared_the_negative_sign"

# LaTeX, plain, value, wrong answers, worked steps (LaTeX, plain)
Template = tuple[str, str, int, list[tuple[Fraction, str]], list[tuple[str, str]]]


def _add_times(rng: Random) -> Template:
    a, b, c = pick(rng, 2, 12), pick(rng, 2, 9), pick(rng, 2, 9)
    op = rng.choice(("+", "-"))
    value = a + b * c if op == "+" else a - b * c
    left_to_right = (a + b) * c if op == "+" else (a - b) * c
    return (
        f"{a} {op} {b} \\times {c}",
        f"{a} {op} {b}*{c}",
        value,
        [(Fraction(left_to_right), d.WRONG_OPERATION_ORDER)],
        [(f"{a} {op} {b * c}", f"{a} {op} {b * c}")],
    )


def _two_products(rng: Random) -> Template:
    a, b, c, e = (pick(rng, 2, 9) for _ in range(4))
    value = a * b + c * e
    return (
        f"{a} \\times {b} + {c} \\times {e}",
        f"{a}*{b} + {c}*{e}",
        value,
        [
            (Fraction((a * b + c) * e), d.WRONG_OPERATION_ORDER),
            (Fraction(a * (b + c) * e), "added_before_multiplying"),
        ],
        [(f"{a * b} + {c * e}", f"{a * b} + {c * e}")],
    )


def _divide_then_add(rng: Random) -> Template:
    c = pick(rng, 2, 9)
    b, a = c * pick(rng, 2, 9), pick(rng, 2, 20)
    value = a + b // c
    wrong = Fraction(a + b, c)
    return (
        f"{a} + {b} \\div {c}",
        f"{a} + {b}/{c}",
        value,
        [(wrong, d.WRONG_OPERATION_ORDER)],
        [(f"{a} + {b // c}", f"{a} + {b // c}")],
    )


def _parentheses(rng: Random) -> Template:
    a, b, c = pick(rng, 2, 12), pick(rng, 2, 12), pick(rng, 2, 9)
    e = c * pick(rng, 1, 6)
    value = (a + b) * c - e
    return (
        f"({a} + {b}) \\times {c} - {e}",
        f"({a} + {b})*{c} - {e}",
        value,
        [
            (Fraction(a + b * c - e), IGNORED_PARENTHESES),
            (Fraction((a + b) * (c - e)), d.WRONG_OPERATION_ORDER),
        ],
        [
            (f"{a + b} \\times {c} - {e}", f"{a + b}*{c} - {e}"),
            (f"{(a + b) * c} - {e}", f"{(a + b) * c} - {e}"),
        ],
    )


def _nested(rng: Random) -> Template:
    a, b, e = pick(rng, 2, 9), pick(rng, 3, 15), pick(rng, 1, 20)
    c = pick(rng, 1, b - 1)
    total = a * (b - c)
    return (
        f"{a} \\times ({b} - {c}) + {e}",
        f"{a}*({b} - {c}) + {e}",
        total + e,
        [
            (Fraction(a * b - c + e), IGNORED_PARENTHESES),
            (Fraction(a * (b - c + e)), d.WRONG_OPERATION_ORDER),
        ],
        [
            (f"{a} \\times {b - c} + {e}", f"{a}*{b - c} + {e}"),
            (f"{total} + {e}", f"{total} + {e}"),
        ],
    )


def _exponent(rng: Random) -> Template:
    a, b, c = pick(rng, 1, 20), pick(rng, 2, 5), pick(rng, 2, 5)
    value = a + b * c**2
    return (
        f"{a} + {b} \\times {c}^{{2}}",
        f"{a} + {b}*{c}**2",
        value,
        [
            (Fraction((b * c) ** 2 + a), SQUARED_THE_PRODUCT),
            (Fraction(((a + b) * c) ** 2), d.WRONG_OPERATION_ORDER),
            (Fraction(a + b * c * 2), d.SQUARED_INSTEAD_OF_DOUBLED),
        ],
        [
            (f"{a} + {b} \\times {c * c}", f"{a} + {b}*{c * c}"),
            (f"{a} + {b * c * c}", f"{a} + {b * c * c}"),
        ],
    )


def _negative_square(rng: Random) -> Template:
    a, b, c = pick(rng, 2, 9), pick(rng, 2, 9), pick(rng, 2, 9)
    value = -(a**2) + b * c
    return (
        f"-{a}^{{2}} + {b} \\times {c}",
        f"-{a}**2 + {b}*{c}",
        value,
        [
            (Fraction(a**2 + b * c), NEGATIVE_BASE_SQUARED),
            (Fraction((-(a**2) + b) * c), d.WRONG_OPERATION_ORDER),
        ],
        [(f"-{a * a} + {b * c}", f"-{a * a} + {b * c}")],
    )


def _grouped_square(rng: Random) -> Template:
    a = pick(rng, 3, 12)
    b = pick(rng, 1, a - 1)
    c = pick(rng, 2, 5)
    square = (a - b) ** 2
    e = pick(rng, 1, 9)
    value = square * c - e
    return (
        f"({a} - {b})^{{2}} \\times {c} - {e}",
        f"({a} - {b})**2*{c} - {e}",
        value,
        [
            (Fraction((a**2 - b**2) * c - e), "squared_each_term"),
            (Fraction(((a - b) * c) ** 2 - e), SQUARED_THE_PRODUCT),
            (Fraction((a - b) * 2 * c - e), d.SQUARED_INSTEAD_OF_DOUBLED),
        ],
        [
            (f"{a - b}^{{2}} \\times {c} - {e}", f"{a - b}**2*{c} - {e}"),
            (f"{square} \\times {c} - {e}", f"{square}*{c} - {e}"),
        ],
    )


LEVELS: dict[int, tuple[Callable[[Random], Template], ...]] = {
    1: (_add_times, _two_products, _divide_then_add),
    2: (_parentheses, _nested),
    3: (_exponent, _negative_square, _grouped_square),
}


HINTS = {
    1: "Multiply or divide first, even when it comes later in the line; then add or subtract.",
    2: "Work out the parentheses first, then multiply, then add or subtract.",
    3: "Exponents come before multiplication; in $-a^2$ only $a$ is squared.",
}


def evaluate(rng: Random, level: int) -> Draft:
    latex, plain, value, wrongs, steps = rng.choice(LEVELS[level])(rng)
    worked = [
        Step("Start with the highest-priority operation" if i == 0 else "Then the next", *step)
        for i, step in enumerate(steps)
    ]
    worked.append(Step("Finish from left to right", str(value), str(value)))
    return number_draft(
        stem=f"Evaluate ${latex}$.",
        problem=plain,
        value=value,
        steps=worked,
        hints=[
            "Order: parentheses, exponents, multiplication and division, addition and subtraction.",
            HINTS[level],
        ],
        candidates=wrongs,
        multiple_choice=rng.random() < 0.7,
    )
