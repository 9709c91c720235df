"""What a skill's problems look like, so a question written for a skill can be held to it
(`profile_fit`) and a model asked for one can be told (`describe`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Feature(StrEnum):
    DECIMAL = "decimal"  # a decimal numeral: 2.5
    FRACTION = "fraction"  # a fraction or a division: x/4, 3/4
    GROUPING = "grouping"  # parentheses around a sum or difference: 3*(x + 2)
    POWER = "power"  # an exponent: x**2, 3**4
    FORMULA = "formula"  # a named quantity: rectangle_area(15, w)


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
