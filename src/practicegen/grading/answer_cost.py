"""The cost bound: refusing an answer too expensive to compare before sympy ever sees it, as
`(x+1)^100(x-1)^100-(x^2-1)^100` is, from its parse tree alone.

An answer's *weight* is the polynomial degree of each piece as written, summed without expanding:
a variable weighs 1 and a number 0; sums, products and quotients add; a power multiplies its
base's weight by a constant exponent's size, or else by the exponent's weight plus one.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from fractions import Fraction

from practicegen.grading.answers import Answer, AnswerError, Node, nodes_of, read

DEFAULT_MAX_WEIGHT = 40  # honest answers to the bank's items weigh under 10
_SATURATED = Fraction(10**6)  # any constant beyond this counts as this: the bound is far lower
_MAX_CONSTANT_EXPONENT = 64  # a constant power in an exponent is computed only below this
_ARITHMETIC: dict[str, Callable[[Fraction, Fraction], Fraction]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
}


def weight(answer: Answer) -> Fraction:
    """The weight of every expression an answer writes (clauses, sides, coordinates)."""
    nodes = (node for clause in answer.clauses for node in nodes_of(clause))
    return sum((_weight(node) for node in nodes), Fraction(0))


def exceeds(text: str, *, max_length: int, max_weight: int) -> bool:
    """Whether `text` reads as an answer heavier than `max_weight` (unreadable text does not)."""
    try:
        answer = read(text, max_length=max_length)
    except AnswerError:
        return False
    return weight(answer) > max_weight


def _weight(node: Node) -> Fraction:
    if node.op == "var":
        return Fraction(1)
    if node.op in ("num", "dec", "pi"):
        return Fraction(0)
    if node.op == "^":
        base, exponent = node.args
        if (size := _constant(exponent)) is None:
            return _weight(base) * (_weight(exponent) + 1) + _weight(exponent)
        return min(_weight(base) * abs(size), _SATURATED)
    return min(sum((_weight(arg) for arg in node.args), Fraction(0)), _SATURATED)


def _constant(node: Node) -> Fraction | None:
    """The value of an exponent written with numbers only, saturated; else None."""
    if node.op in ("num", "dec"):
        return min(Fraction(node.text), _SATURATED)
    if node.op == "neg":
        inner = _constant(node.args[0])
        return None if inner is None else -inner
    if node.op not in ("+", "-", "*", "/", "^"):
        return None
    left, right = (_constant(arg) for arg in node.args)
    if left is None or right is None:
        return None
    return max(min(_combine(node.op, left, right), _SATURATED), -_SATURATED)


def _combine(op: str, left: Fraction, right: Fraction) -> Fraction:
    if op in _ARITHMETIC:
        return _ARITHMETIC[op](left, right)
    if op == "/":
        return left / right if right else _SATURATED
    if right.denominator != 1 or abs(right) > _MAX_CONSTANT_EXPONENT:
        return _SATURATED if abs(left) > 1 else Fraction(1)
    if left == 0 and right < 0:
        return _SATURATED
    return left ** int(right)
