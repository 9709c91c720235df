"""Numbers and polynomials written two ways: LaTeX for people and plain text for sympy.

Every builder shows the problem in LaTeX and records the same problem in sympy-readable plain
form for the check, so both strings come from one description here and cannot drift apart.
Fractions are `fractions.Fraction`; monomials are written in plain form ("", "x", "x**2", "x*y").
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from math import isqrt
from random import Random

Number = int | Fraction
Term = tuple[Number, str]


def num_latex(q: Number) -> str:
    q = Fraction(q)
    if q.denominator == 1:
        return str(q.numerator)
    sign = "-" if q < 0 else ""
    return f"{sign}\\frac{{{abs(q.numerator)}}}{{{q.denominator}}}"


def num_plain(q: Number) -> str:
    q = Fraction(q)
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def _mono_latex(mono: str) -> str:
    """'x**2*y' -> 'x^{2}y'."""
    out = []
    for factor in mono.replace("**", "^").split("*"):
        base, _, power = factor.partition("^")
        out.append(f"{base}^{{{power}}}" if power else base)
    return "".join(out)


def _term_latex(coef: Fraction, mono: str) -> str:
    if not mono:
        return num_latex(coef)
    if coef == 1:
        return _mono_latex(mono)
    if coef == -1:
        return "-" + _mono_latex(mono)
    return num_latex(coef) + _mono_latex(mono)


def _term_plain(coef: Fraction, mono: str) -> str:
    if not mono:
        return num_plain(coef)
    if coef == 1:
        return mono
    if coef == -1:
        return "-" + mono
    return f"{num_plain(coef)}*{mono}"


def _join(pieces: Sequence[str]) -> str:
    if not pieces:
        return "0"
    text = pieces[0]
    for piece in pieces[1:]:
        text += f" - {piece[1:]}" if piece.startswith("-") else f" + {piece}"
    return text


def poly(terms: Sequence[Term]) -> tuple[str, str]:
    """(LaTeX, plain) of a sum of terms in the given order; zero terms are left out."""
    kept = [(Fraction(c), m) for c, m in terms if c != 0]
    return (
        _join([_term_latex(c, m) for c, m in kept]),
        _join([_term_plain(c, m) for c, m in kept]),
    )


def linear(a: Number, b: Number, var: str = "x") -> tuple[str, str]:
    """a*var + b."""
    return poly([(a, var), (b, "")])


def group(coef: int, inner: tuple[str, str]) -> tuple[str, str]:
    """coef(inner): '3(x + 4)' / '3*(x + 4)'; a coefficient of -1 is written '-'."""
    latex, plain = inner
    lead = "-" if coef == -1 else ("" if coef == 1 else str(coef))
    mul = "-" if coef == -1 else ("" if coef == 1 else f"{coef}*")
    return f"{lead}({latex})", f"{mul}({plain})"


def equation(var: str, value: Number) -> tuple[str, str]:
    return f"{var} = {num_latex(value)}", f"{var} = {num_plain(value)}"


def pick(rng: Random, lo: int, hi: int, *, exclude: Sequence[int] = (0,)) -> int:
    """A uniform integer in [lo, hi] outside `exclude` (0 by default)."""
    values = [v for v in range(lo, hi + 1) if v not in exclude]
    return rng.choice(values)


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


def radical(n: int) -> tuple[str, str]:
    """sqrt(n) in simplest form: "4", "2\\sqrt{13}" / "2*sqrt(13)"."""
    k = next(f for f in range(isqrt(n), 0, -1) if n % (f * f) == 0)
    rest = n // (k * k)
    if rest == 1:
        return str(k), str(k)
    if k == 1:
        return f"\\sqrt{{{rest}}}", f"sqrt({rest})"
    return f"{k}\\sqrt{{{rest}}}", f"{k}*sqrt({rest})"
