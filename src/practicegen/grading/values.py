"""Building the sympy value of a parsed answer, node by node, refusing what would not return:
division by zero, and powers over `MAX_POWER_DIGITS` digits or the `MAX_EXPONENT`th power.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import sympy

from practicegen.grading.answers import AnswerError, Expr, Node

MAX_POWER_DIGITS = 1000  # no practice answer needs a longer number
MAX_EXPONENT = 100  # for anything but a rational base, e.g. x^100 or sqrt(2)^100
_SYMBOLS = {name: sympy.Symbol(name, real=True) for name in "abcdefghijklmnopqrstuvwxyz"}


def to_sympy(node: Node) -> Expr:
    """The sympy value of `node`, refusing division by zero and oversized powers."""
    value = _build(node)
    if value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        raise AnswerError("The answer divides by zero.")
    _check_exponents(value)
    return value


def _build(node: Node) -> Expr:
    if node.op in ("num", "dec"):
        return sympy.Rational(node.text)
    if node.op == "var":
        return _SYMBOLS[node.text]
    if node.op == "pi":
        return sympy.pi
    return _OPERATIONS[node.op](*[_build(arg) for arg in node.args])


def _divide(dividend: Expr, divisor: Expr) -> Expr:
    if divisor == 0:
        raise AnswerError("The answer divides by zero.")
    return dividend / divisor


def _power(base: Expr, exponent: Expr) -> Expr:
    if exponent.is_Rational and base.is_Rational and base not in (0, 1, -1):
        bits = max(abs(base.p).bit_length(), base.q.bit_length())
        if abs(exponent) * bits * 0.30103 > MAX_POWER_DIGITS:
            raise AnswerError("That number is too large to work with.")
    elif exponent.is_Rational and abs(exponent) > MAX_EXPONENT:
        raise AnswerError(f"Exponents above {MAX_EXPONENT} are not supported.")
    value = base**exponent
    _check_exponents(value)
    return value


_OPERATIONS: dict[str, Callable[..., Expr]] = {
    "sqrt": sympy.sqrt,
    "abs": sympy.Abs,
    "neg": operator.neg,
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": _divide,
    "^": _power,
}


def _check_exponents(value: Expr) -> None:
    """Refuse `x^200` however it arose: `(x^20)^20` and `x^100*x^100` combine too."""
    for power in value.atoms(sympy.Pow):
        if power.exp.is_Rational and abs(power.exp) > MAX_EXPONENT:
            raise AnswerError(f"Exponents above {MAX_EXPONENT} are not supported.")
