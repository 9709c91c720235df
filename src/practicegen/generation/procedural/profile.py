"""What a skill's problems look like, so a question written for a skill can be held to it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sympy
from sympy.polys.polyerrors import BasePolynomialError

from practicegen.generation.procedural import mathparse as mp


class Feature(StrEnum):
    DECIMAL = "decimal"  # a decimal numeral: 2.5
    FRACTION = "fraction"  # a fraction or a division: x/4, 3/4
    GROUPING = "grouping"  # parentheses around a sum or difference: 3*(x + 2)
    POWER = "power"  # an exponent: x**2, 3**4
    FORMULA = "formula"  # a named quantity: rectangle_area(15, w)


_GROUPING = re.compile(r"\([^()]*\w\s*[+\-]\s*[\w(][^()]*\)")
_FORMULA = re.compile(rf"\b(?:{'|'.join(mp.QUANTITIES)})\s*\(")
_RATIONAL = -1  # the "degree" of a problem with an unknown in a denominator


def features(problem: str) -> frozenset[Feature]:
    found = {
        Feature.DECIMAL: bool(re.search(r"\d\.\d", problem)),
        Feature.FRACTION: "/" in problem,
        Feature.GROUPING: bool(_GROUPING.search(problem)),
        Feature.POWER: "**" in problem or "^" in problem,
        Feature.FORMULA: bool(_FORMULA.search(problem)),
    }
    return frozenset(feature for feature, present in found.items() if present)


def unknowns(problem: str) -> frozenset[str]:
    without_names = _FORMULA.sub("(", problem)
    return frozenset(re.findall(r"\b[a-z]\b", without_names)) & frozenset(mp.VARIABLES)


def degree(kind: str, problem: str) -> int:
    """The highest power of an unknown in the problem as written, term by term (terms that
    cancel count: `2(2x - 3) - 4(x + 7)` is linear); `_RATIONAL` if an unknown divides."""
    if kind == "value":
        return 0
    terms: list[Any] = []
    for part in problem.split(";"):
        for side in re.split(r"<=|>=|<|>|=", part):
            terms += sympy.Add.make_args(mp.expr(side, evaluate=False))
    highest = 0
    for term in terms:
        symbols = sorted(term.free_symbols, key=str)
        if not symbols:
            continue
        numerator, denominator = term.as_numer_denom()
        if denominator.free_symbols:
            return _RATIONAL
        highest = max(highest, sympy.Poly(sympy.expand(numerator), *symbols).total_degree())
    return highest


@dataclass(frozen=True, slots=True)
class SkillProfile:
    kinds: frozenset[str]  # CheckKind values
    unknowns: tuple[int, int]  # fewest and most distinct unknowns
    degrees: frozenset[int] | None  # highest powers allowed (None: any, rational ones too)
    allowed: frozenset[Feature] = frozenset()
    required: frozenset[Feature] = frozenset()  # at least one of these, if any

    def describe(self) -> str:
        """The profile in words, for a model asked to write a problem of the skill."""
        low, high = self.unknowns
        parts = [
            f"kind {' or '.join(sorted(self.kinds))}",
            f"{low} unknown{'' if low == 1 else 's'}" if low == high else f"{low}-{high} unknowns",
        ]
        if self.degrees is not None:
            parts.append(f"highest power of an unknown {'/'.join(map(str, sorted(self.degrees)))}")
        if self.required:
            parts.append(f"with {' or '.join(sorted(f.value for f in self.required))}")
        others = sorted(f.value for f in set(Feature) - self.allowed - self.required)
        if others:
            parts.append(f"no {', '.join(others)}")
        return "; ".join(parts)

    def misfit(self, kind: str, problem: str) -> str | None:
        """Why `problem` (of check kind `kind`) is not of this skill; None if it fits."""
        if kind not in self.kinds:
            return f"a problem of kind {kind}; the skill has {sorted(self.kinds)}"
        count = len(unknowns(problem))
        if not self.unknowns[0] <= count <= self.unknowns[1]:
            return f"{count} unknowns; the skill has {self.unknowns[0]} to {self.unknowns[1]}"
        has = features(problem)
        extra = has - self.allowed - self.required
        if extra:
            return f"it has {sorted(f.value for f in extra)}, which the skill's problems never have"
        if self.required and not has & self.required:
            return f"it lacks {sorted(f.value for f in self.required)}, which the skill is about"
        return self._degree_misfit(kind, problem)

    def _degree_misfit(self, kind: str, problem: str) -> str | None:
        if self.degrees is None:
            return None
        try:
            power = degree(kind, problem)
        except (mp.Unreadable, BasePolynomialError, ArithmeticError, ValueError) as exc:
            return f"unreadable: {exc}"
        if power not in self.degrees:
            return f"degree {power}; the skill's problems have {sorted(self.degrees)}"
        return None


def profile(
    kinds: str,
    unknowns: tuple[int, int],
    degrees: tuple[int, ...] | None,
    allowed: str = "",
    required: str = "",
) -> SkillProfile:
    """A profile from short declarations (kinds and features space-separated)."""
    return SkillProfile(
        frozenset(kinds.split()),
        unknowns,
        None if degrees is None else frozenset(degrees),
        frozenset(map(Feature, allowed.split())),
        frozenset(map(Feature, required.split())),
    )
