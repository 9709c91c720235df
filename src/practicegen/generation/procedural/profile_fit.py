"""Whether a problem is of a skill's profile: its features, unknowns and powers as written, read
with sympy, so only what checks problems (a node's sympy processes, and tests) imports this."""

from __future__ import annotations

import re
from typing import Any

import sympy
from sympy.polys.polyerrors import BasePolynomialError

from practicegen.generation.procedural import mathparse as mp
from practicegen.generation.procedural.profile import Feature, SkillProfile

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


def misfit(profile: SkillProfile, kind: str, problem: str) -> str | None:
    """Why `problem` (of check kind `kind`) is not of this skill; None if it fits."""
    if kind not in profile.kinds:
        return f"a problem of kind {kind}; the skill has {sorted(profile.kinds)}"
    count = len(unknowns(problem))
    if not profile.unknowns[0] <= count <= profile.unknowns[1]:
        return f"{count} unknowns; the skill has {profile.unknowns[0]} to {profile.unknowns[1]}"
    has = features(problem)
    extra = has - profile.allowed - profile.required
    if extra:
        return f"it has {sorted(f.value for f in extra)}, which the skill's problems never have"
    if profile.required and not has & profile.required:
        return f"it lacks {sorted(f.value for f in profile.required)}, which the skill is about"
    return _degree_misfit(profile, kind, problem)


def _degree_misfit(profile: SkillProfile, kind: str, problem: str) -> str | None:
    if profile.degrees is None:
        return None
    try:
        power = degree(kind, problem)
    except (mp.Unreadable, BasePolynomialError, ArithmeticError, ValueError) as exc:
        return f"unreadable: {exc}"
    if power not in profile.degrees:
        return f"degree {power}; the skill's problems have {sorted(profile.degrees)}"
    return None
