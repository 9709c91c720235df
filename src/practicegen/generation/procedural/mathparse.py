"""Reading problem, step and answer strings into sympy objects, and solving them, for `checks`.

Named quantities (`slope(...)`, `circle_area(r)`) have their own formulas, so keys are re-derived
without trusting a builder. sympy's parser evaluates Python, so every string is first held to a
whitelist of characters and names, and to small exponents.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import sympy
from sympy.parsing import sympy_parser as parser
from sympy.polys.polyerrors import BasePolynomialError

from practicegen.grading.solutions import FLIPPED, ray

_TRANSFORMS = (*parser.standard_transformations, parser.convert_xor, parser.rationalize)
_ALLOWED_CHARS = re.compile(r"^[0-9A-Za-z_+\-*/^().,\s]*$")
_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_RELATION = re.compile(r"(>=|<=|>|<)")
_POWER = re.compile(r"(?:\*\*|\^)\s*\(?\s*-?(\d+)")
_TOWER = re.compile(r"(?:\*\*|\^)\s*\(?\s*-?[\d.]+\s*\)?\s*(?:\*\*|\^)")
MAX_LENGTH = 500
MAX_EXPONENT = 100

Expr = Any  # sympy expressions are untyped
Func = Callable[..., Expr]


QUANTITIES: dict[str, Func] = {
    "slope": lambda x1, y1, x2, y2: (y2 - y1) / (x2 - x1),
    "rectangle_area": lambda length, width: length * width,
    "triangle_area": lambda base, height: base * height / 2,
    "circle_area": lambda r: sympy.pi * r**2,
    "circle_area_from_diameter": lambda dia: sympy.pi * (dia / 2) ** 2,
    "rectangle_perimeter": lambda length, width: 2 * (length + width),
    "square_perimeter": lambda side: 4 * side,
    "circumference": lambda r: 2 * sympy.pi * r,
    "circumference_from_diameter": lambda dia: sympy.pi * dia,
    "hypotenuse": lambda a, b: sympy.sqrt(a**2 + b**2),
    "leg": lambda c, a: sympy.sqrt(c**2 - a**2),
    "percent_of": lambda p, n: p * n / 100,
    "percent_increase": lambda old, new: (new - old) * 100 / old,
    "percent_decrease": lambda old, new: (old - new) * 100 / old,
    "discounted": lambda price, p: price - price * p / 100,
    "increased": lambda price, p: price + price * p / 100,
}
VARIABLES = {name: sympy.Symbol(name) for name in ("x", "y", "a", "b", "h", "w", "n")}
_LOCALS: dict[str, Any] = {**QUANTITIES, "pi": sympy.pi, "sqrt": sympy.sqrt, **VARIABLES}
# The names the parser's own transformations emit (Integer, Rational, Symbol...), built once:
# left to itself, parse_expr re-imports all of sympy on every call.
_GLOBALS: dict[str, Any] = {}
exec("from sympy import *", _GLOBALS)  # noqa: S102


class Unreadable(ValueError):
    """A string that is not in a format this module reads."""


MATH_FAILURES = (  # Unreadable is a ValueError
    ArithmeticError,
    AttributeError,
    BasePolynomialError,
    NotImplementedError,
    TypeError,
    ValueError,
)
"""What reading or solving untrusted math may raise: each means "cannot be read", not a bug."""


@functools.lru_cache(maxsize=4096)
def expr(text: str, *, evaluate: bool = True) -> Expr:
    """A sympy expression from plain text, decimals as exact rationals (cached: one problem is
    read by several checks)."""
    if not _ALLOWED_CHARS.match(text) or "__" in text or len(text) > MAX_LENGTH:
        raise Unreadable(f"unexpected characters in {text!r}")
    big = [int(e) for e in _POWER.findall(text) if int(e) > MAX_EXPONENT]
    if big or _TOWER.search(text):
        raise Unreadable(f"exponents too large to evaluate safely in {text!r}")
    unknown = set(_NAME.findall(text)) - set(_LOCALS)
    if unknown:
        raise Unreadable(f"unknown names {sorted(unknown)} in {text!r}")
    try:
        return parser.parse_expr(
            text,
            local_dict=dict(_LOCALS),
            global_dict=dict(_GLOBALS),
            transformations=_TRANSFORMS,
            evaluate=evaluate,
        )
    except (SyntaxError, TypeError, ValueError, ZeroDivisionError) as exc:
        raise Unreadable(f"cannot read {text!r}: {exc}") from exc


def sides(text: str, separator: str = "=") -> tuple[Expr, Expr]:
    left, sep, right = text.partition(separator)
    if not sep or separator in right:
        raise Unreadable(f"expected one {separator!r} in {text!r}")
    return expr(left), expr(right)


@functools.lru_cache(maxsize=1024)
def solve_equation(text: str, var: Expr) -> Expr:
    """The real solution set of `lhs = rhs` (a union for `... or ...`; `no solution`)."""
    if text.strip() == "no solution":
        return sympy.S.EmptySet
    if " or " in text:
        return sympy.Union(*(solve_equation(part, var) for part in text.split(" or ")))
    lhs, rhs = sides(text)
    difference = sympy.together(lhs - rhs)
    numerator, denominator = sympy.fraction(difference)
    if not numerator.has(var):
        return sympy.S.Reals if sympy.simplify(numerator) == 0 else sympy.S.EmptySet
    poly = sympy.Poly(numerator, var)
    if poly.degree() > 2 or denominator.has(var):
        return sympy.solveset(difference, var, domain=sympy.S.Reals)
    return sympy.FiniteSet(*_real_roots(poly.all_coeffs()))


def _real_roots(coeffs: list[Expr]) -> list[Expr]:
    """The real roots of a polynomial of degree 1 or 2, from its coefficients."""
    if len(coeffs) == 2:
        return [-coeffs[1] / coeffs[0]]
    a, b, c = coeffs
    discriminant = b * b - 4 * a * c
    if discriminant < 0:
        return []
    root = sympy.sqrt(discriminant)
    return [sympy.expand((-b + root) / (2 * a)), sympy.expand((-b - root) / (2 * a))]


@functools.lru_cache(maxsize=1024)
def solution_set(text: str, var: Expr) -> Expr:
    """The set an equation answer names: `x = 4`, `4`, `x = 2 or x = -3`, `no solution`."""
    if text.strip() == "no solution":
        return sympy.S.EmptySet
    values = []
    for part in text.split(" or "):
        name, sep, value = part.partition("=")
        if sep and expr(name) != var:
            raise Unreadable(f"{part!r} does not give a value of {var}")
        values.append(expr(value if sep else name))
    return sympy.FiniteSet(*values)


def solve_inequality(text: str, var: Expr) -> Expr:
    """The real solution set of a one-variable inequality such as `2*x + 3 > 11`."""
    parts = _RELATION.split(text)
    if len(parts) != 3:
        raise Unreadable(f"expected one relation in {text!r}")
    lhs, op, rhs = expr(parts[0]), parts[1], expr(parts[2])
    difference = sympy.expand(lhs - rhs)
    poly = sympy.Poly(difference, var) if difference.has(var) else None
    if poly is None or poly.degree() != 1:
        relation = {">": sympy.Gt, "<": sympy.Lt, ">=": sympy.Ge, "<=": sympy.Le}[op]
        return sympy.solveset(relation(lhs, rhs), var, domain=sympy.S.Reals)
    slope, intercept = poly.all_coeffs()
    boundary = -intercept / slope
    if slope < 0:
        op = FLIPPED[op]
    return ray(op, boundary)


def solve_system(text: str, variables: tuple[Expr, ...]) -> Expr:
    """The solution set of equations separated by `;`, as a set of tuples in `variables` order."""
    equations = [lhs - rhs for lhs, rhs in (sides(part) for part in text.split(";"))]
    return sympy.linsolve(equations, list(variables))


def system_answer(text: str, variables: tuple[Expr, ...]) -> Expr:
    """The set a system answer names: `x = 1, y = 2`, or `no solution`."""
    if text.strip() == "no solution":
        return sympy.S.EmptySet
    values = dict(sides(part) for part in text.split(","))
    if set(values) != set(variables):
        raise Unreadable(f"{text!r} does not give exactly {variables}")
    return sympy.FiniteSet(tuple(values[v] for v in variables))


def line_in_y(text: str) -> Expr:
    """A line's equation solved for y, so two equations of the same line compare equal."""
    lhs, rhs = sides(text)
    y = VARIABLES["y"]
    difference = sympy.expand(lhs - rhs)
    slope_in_y = difference.coeff(y, 1)
    if slope_in_y == 0 or sympy.expand(difference - slope_in_y * y).has(y):
        raise Unreadable(f"{text!r} is not a non-vertical line")
    return sympy.expand(-(difference - slope_in_y * y) / slope_in_y)


def numbers_in(text: str) -> set[str]:
    """The unsigned numerals in a string, normalised ('07' and '7' agree; '2.50' is '2.5')."""
    found = set()
    for token in re.findall(r"\d+(?:\.\d+)?", text):
        whole, _, frac = token.partition(".")
        frac = frac.rstrip("0")
        found.add(str(int(whole)) + (f".{frac}" if frac else ""))
    return found
