"""Order of operations: evaluating expressions where working left to right gives a wrong answer.

Templates use whole numbers and write LaTeX only; `_plain` changes just the operator signs.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from random import Random

from practicegen.generation.procedural import distractors as d
from practicegen.generation.procedural.base import Draft, Step
from practicegen.generation.procedural.render import Number, pick
from practicegen.generation.procedural.steps import number_draft

IGNORED_PARENTHESES = "ignored_parentheses"
SQUARED_THE_PRODUCT = "applied_exponent_to_the_whole_product"

# LaTeX, value, wrong answers, worked steps in LaTeX
Template = tuple[str, int, list[tuple[Number, str]], list[str]]


def _plain(latex: str) -> str:
    return latex.replace(" \\times ", "*").replace(" \\div ", "/").replace("^{2}", "**2")


def _add_times(rng: Random) -> Template:
    a, b, c = pick(rng, 2, 12), pick(rng, 2, 9), pick(rng, 2, 9)
    op = rng.choice(("+", "-"))
    value = a + b * c if op == "+" else a - b * c
    left_to_right = (a + b) * c if op == "+" else (a - b) * c
    wrongs: list[tuple[Number, str]] = [(left_to_right, d.WRONG_OPERATION_ORDER)]
    return f"{a} {op} {b} \\times {c}", value, wrongs, [f"{a} {op} {b * c}"]


def _two_products(rng: Random) -> Template:
    a, b, c, e = (pick(rng, 2, 9) for _ in range(4))
    wrongs: list[tuple[Number, str]] = [
        ((a * b + c) * e, d.WRONG_OPERATION_ORDER),
        (a * (b + c) * e, "added_before_multiplying"),
    ]
    return f"{a} \\times {b} + {c} \\times {e}", a * b + c * e, wrongs, [f"{a * b} + {c * e}"]


def _divide_then_add(rng: Random) -> Template:
    c = pick(rng, 2, 9)
    b, a = c * pick(rng, 2, 9), pick(rng, 2, 20)
    wrongs: list[tuple[Number, str]] = [(Fraction(a + b, c), d.WRONG_OPERATION_ORDER)]
    return f"{a} + {b} \\div {c}", a + b // c, wrongs, [f"{a} + {b // c}"]


def _parentheses(rng: Random) -> Template:
    a, b, c = pick(rng, 2, 12), pick(rng, 2, 12), pick(rng, 2, 9)
    e = c * pick(rng, 1, 6)
    return (
        f"({a} + {b}) \\times {c} - {e}",
        (a + b) * c - e,
        [(a + b * c - e, IGNORED_PARENTHESES), ((a + b) * (c - e), d.WRONG_OPERATION_ORDER)],
        [f"{a + b} \\times {c} - {e}", f"{(a + b) * c} - {e}"],
    )


def _nested(rng: Random) -> Template:
    a, b, e = pick(rng, 2, 9), pick(rng, 3, 15), pick(rng, 1, 20)
    c = pick(rng, 1, b - 1)
    total = a * (b - c)
    return (
        f"{a} \\times ({b} - {c}) + {e}",
        total + e,
        [(a * b - c + e, IGNORED_PARENTHESES), (a * (b - c + e), d.WRONG_OPERATION_ORDER)],
        [f"{a} \\times {b - c} + {e}", f"{total} + {e}"],
    )


def _exponent(rng: Random) -> Template:
    a, b, c = pick(rng, 1, 20), pick(rng, 2, 5), pick(rng, 2, 5)
    return (
        f"{a} + {b} \\times {c}^{{2}}",
        a + b * c**2,
        [
            ((b * c) ** 2 + a, SQUARED_THE_PRODUCT),
            (((a + b) * c) ** 2, d.WRONG_OPERATION_ORDER),
            (a + b * c * 2, d.SQUARED_INSTEAD_OF_DOUBLED),
        ],
        [f"{a} + {b} \\times {c * c}", f"{a} + {b * c * c}"],
    )


def _negative_square(rng: Random) -> Template:
    a, b, c = pick(rng, 2, 9), pick(rng, 2, 9), pick(rng, 2, 9)
    return (
        f"-{a}^{{2}} + {b} \\times {c}",
        -(a**2) + b * c,
        [(a**2 + b * c, "squared_the_negative_sign"), ((-(a**2) + b) * c, d.WRONG_OPERATION_ORDER)],
        [f"-{a * a} + {b * c}"],
    )


def _grouped_square(rng: Random) -> Template:
    a = pick(rng, 3, 12)
    b = pick(rng, 1, a - 1)
    c = pick(rng, 2, 5)
    square = (a - b) ** 2
    e = pick(rng, 1, 9)
    return (
        f"({a} - {b})^{{2}} \\times {c} - {e}",
        square * c - e,
        [
            ((a**2 - b**2) * c - e, "squared_each_term"),
            (((a - b) * c) ** 2 - e, SQUARED_THE_PRODUCT),
            ((a - b) * 2 * c - e, d.SQUARED_INSTEAD_OF_DOUBLED),
        ],
        [f"{a - b}^{{2}} \\times {c} - {e}", f"{square} \\times {c} - {e}"],
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
    latex, value, wrongs, steps = rng.choice(LEVELS[level])(rng)
    worked = [
        Step("Then the next" if i else "Start with the highest-priority operation", s, _plain(s))
        for i, s in enumerate(steps)
    ]
    return number_draft(
        stem=f"Evaluate ${latex}$.",
        problem=_plain(latex),
        value=value,
        steps=worked,
        finish="Finish from left to right",
        hints=[
            "Order: parentheses, exponents, multiplication and division, addition and subtraction.",
            HINTS[level],
        ],
        candidates=wrongs,
        multiple_choice=rng.random() < 0.7,
    )
