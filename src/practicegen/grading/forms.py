"""How an expression is written, for the EXACT_FORM policy: `6/8` is not `3/4`, nor `2x+2x` `4x`.
Works on the parse tree, as sympy values have forgotten how the student wrote them.
"""

from __future__ import annotations

import math

import sympy

from practicegen.grading.answers import Node

Form = tuple[object, ...]


def form(node: Node) -> Form:
    """How an expression is written, blind to term and factor order, parentheses, minus places."""
    terms = _terms(node, 1)
    if len(terms) == 1:
        return _product(*terms[0])
    return ("sum", *sorted((_product(sign, t) for sign, t in terms), key=repr))


def _terms(node: Node, sign: int) -> list[tuple[int, Node]]:
    if node.op == "+":
        return _terms(node.args[0], sign) + _terms(node.args[1], sign)
    if node.op == "-":
        return _terms(node.args[0], sign) + _terms(node.args[1], -sign)
    if node.op == "neg":
        return _terms(node.args[0], -sign)
    return [(sign, node)]


def _product(sign: int, node: Node) -> Form:
    numerators: list[str] = []
    denominators: list[str] = []
    factors: list[Form] = []
    sign *= _factors(node, numerators, denominators, factors)
    if len(numerators) <= 1 and len(denominators) == 1:
        factors.append(("fraction", numerators[0] if numerators else "1", denominators[0]))
    else:
        factors += [("num", n) for n in numerators] + [("over", d) for d in denominators]
    return ("product", sign, *sorted(factors, key=repr))


def _factors(node: Node, nums: list[str], dens: list[str], factors: list[Form]) -> int:
    """Sort the factors of `node` into integers, integer divisors and the rest; its sign."""
    if node.op == "*":
        return math.prod(_factors(arg, nums, dens, factors) for arg in node.args)
    if node.op == "/":
        sign = _factors(node.args[0], nums, dens, factors)
        divisor = node.args[1]
        if divisor.op == "num":
            dens.append(str(int(divisor.text)))
            return sign
        inner = _terms(divisor, 1)
        if len(inner) == 1:
            sign *= inner[0][0]
        factors.append(("divide", form(divisor) if len(inner) > 1 else _product(1, inner[0][1])))
        return sign
    if node.op == "neg":
        return -_factors(node.args[0], nums, dens, factors)
    if node.op == "num":
        nums.append(str(int(node.text)))
    else:
        factors.append(_atom(node))
    return 1


def _atom(node: Node) -> Form:
    if node.op == "dec":
        return ("decimal", str(sympy.Rational(node.text)))
    if node.op in ("var", "pi"):
        return (node.op, node.text)
    if node.op in ("+", "-"):
        return form(node)
    return (node.op, *(form(arg) for arg in node.args))
