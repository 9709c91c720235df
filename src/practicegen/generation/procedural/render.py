"""Numbers and polynomials written two ways: LaTeX for people and plain text for sympy.

Both strings come from one description here, so the problem shown and the problem checked cannot
drift apart. Monomials are written in plain form ("", "x", "x**2", "x*y").
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from math import isqrt
from random import Random

Number = int | Fraction
Term = tuple[Number, str]
Pair = tuple[str, str]  # (LaTeX, plain)


def num_latex(q: Number) -> str:
    q = Fraction(q)
    if q.denominator == 1:
        return str(q.numerator)
    sign = "-" if q < 0 else ""
    return f"{sign}\\frac{{{abs(q.numerator)}}}{{{q.denominator}}}"


def num_plain(q: Number) -> str:
    q = Fraction(q)
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def pair(q: Number) -> Pair:
    return num_latex(q), num_plain(q)


def _mono_latex(mono: str) -> str:
    """'x**2*y' -> 'x^{2}y'."""
    factors = (factor.partition("^") for factor in mono.replace("**", "^").split("*"))
    return "".join(f"{base}^{{{power}}}" if power else base for base, _, power in factors)


def _term(coef: Fraction, mono: str) -> Pair:
    if not mono:
        return pair(coef)
    latex = _mono_latex(mono)
    if coef in (1, -1):
        sign = "-" if coef < 0 else ""
        return sign + latex, sign + mono
    return num_latex(coef) + latex, f"{num_plain(coef)}*{mono}"


def _join(pieces: Sequence[str]) -> str:
    if not pieces:
        return "0"
    rest = (f" - {p[1:]}" if p.startswith("-") else f" + {p}" for p in pieces[1:])
    return pieces[0] + "".join(rest)


def poly(terms: Sequence[Term]) -> Pair:
    """(LaTeX, plain) of a sum of terms in the given order; zero terms are left out."""
    kept = [_term(Fraction(c), m) for c, m in terms if c != 0]
    return _join([t[0] for t in kept]), _join([t[1] for t in kept])


def linear(a: Number, b: Number, var: str = "x") -> Pair:
    """a*var + b."""
    return poly([(a, var), (b, "")])


def group(coef: int, inner: tuple[str, str]) -> Pair:
    """coef(inner): '3(x + 4)' / '3*(x + 4)'; a coefficient of -1 is written '-'."""
    latex, plain = inner
    lead = "-" if coef == -1 else ("" if coef == 1 else str(coef))
    mul = "-" if coef == -1 else ("" if coef == 1 else f"{coef}*")
    return f"{lead}({latex})", f"{mul}({plain})"


def equals(lhs: Pair, rhs: Pair) -> Pair:
    return f"{lhs[0]} = {rhs[0]}", f"{lhs[1]} = {rhs[1]}"


def equation(var: str, value: Number) -> Pair:
    return equals((var, var), pair(value))


def pick(rng: Random, lo: int, hi: int, *, exclude: Sequence[int] = (0,)) -> int:
    """A uniform integer in [lo, hi] outside `exclude` (0 by default)."""
    return rng.choice([v for v in range(lo, hi + 1) if v not in exclude])


def signed(rng: Random, lo: int, hi: int, *, exclude: Sequence[int] = (0,)) -> int:
    """An integer whose magnitude is in [lo, hi] with a random sign."""
    return pick(rng, lo, hi, exclude=exclude) * rng.choice((1, -1))


def terminates(q: Number) -> bool:
    """Whether q has a terminating decimal form (its denominator has no prime but 2 and 5)."""
    den = Fraction(q).denominator
    for prime in (2, 5):
        while den % prime == 0:
            den //= prime
    return den == 1


def decimal(q: Number) -> str:
    """A terminating decimal written out ("0.075", "30", "-2.5")."""
    q = Fraction(q)
    if not terminates(q):
        raise ValueError(f"{q} has no terminating decimal form")
    value = (Decimal(q.numerator) / Decimal(q.denominator)).normalize()
    return format(value, "f")


def operand(q: Number, first: bool = False) -> str:
    """A terminating decimal operand; a negative one after the first is in parentheses."""
    return f"({decimal(q)})" if q < 0 and not first else decimal(q)


def radical(n: int) -> Pair:
    """sqrt(n) in simplest form: "4", "2\\sqrt{13}" / "2*sqrt(13)"."""
    k = next(f for f in range(isqrt(n), 0, -1) if n % (f * f) == 0)
    rest = n // (k * k)
    if rest == 1:
        return str(k), str(k)
    if k == 1:
        return f"\\sqrt{{{rest}}}", f"sqrt({rest})"
    return f"{k}\\sqrt{{{rest}}}", f"{k}*sqrt({rest})"
