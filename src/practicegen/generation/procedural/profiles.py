"""What each procedural skill's problems look like (`profile`): a model is told, and its
question must match (`profile_fit`).
"""

from __future__ import annotations

from practicegen.generation.procedural.profile import SkillProfile, profile

_GIVEN_OR_SOLVED = profile("value equation", (0, 1), (0, 1), "decimal", "formula")
_FORMULA_VALUE = profile("value", (0, 0), None, "decimal", "formula")

PROFILES: dict[str, SkillProfile] = {
    # kinds, (fewest, most unknowns), highest powers, features allowed, features required (one of)
    "linear_equations.one_step": profile("equation", (1, 1), (1,), "fraction"),
    "linear_equations.two_step": profile("equation", (1, 1), (1,), "fraction"),
    "linear_equations.both_sides": profile("equation", (1, 1), (1,), "fraction"),
    "linear_equations.distribution": profile("equation", (1, 1), (1,), "fraction", "grouping"),
    "linear_equations.fractions": profile("equation", (1, 1), (1,), "grouping", "fraction"),
    "inequalities.one_step": profile("inequality", (1, 1), (1,), "fraction"),
    "inequalities.two_step": profile("inequality", (1, 1), (1,), "fraction"),
    "systems.substitution": profile("system", (2, 2), (1,), "fraction"),
    "systems.elimination": profile("system", (2, 2), (1,), "fraction"),
    "quadratics.factoring": profile("equation", (1, 1), (2,), "", "power"),
    "quadratics.square_root": profile("equation", (1, 1), (2,), "grouping", "power"),
    "expressions.combine_like_terms": profile("expression", (1, 2), (1, 2), "power"),
    "expressions.distribute": profile("expression", (1, 2), (1, 2), "power", "grouping"),
    "exponents.rules": profile("expression", (1, 1), None, "fraction grouping", "power"),
    "exponents.evaluate": profile("value", (0, 0), None, "fraction grouping", "power"),
    "slope.two_points": profile("value", (0, 0), None, "", "formula"),
    "slope.from_equation": profile("line_slope", (2, 2), (1,), "fraction"),
    "fractions.add": profile("value", (0, 0), None, "grouping", "fraction"),
    "fractions.subtract": profile("value", (0, 0), None, "grouping", "fraction"),
    "fractions.multiply": profile("value", (0, 0), None, "grouping", "fraction"),
    "fractions.divide": profile("value", (0, 0), None, "grouping", "fraction"),
    "decimals.add_subtract": profile("value", (0, 0), None, "", "decimal"),
    "decimals.multiply_divide": profile("value", (0, 0), None, "fraction", "decimal"),
    "percentages.percent_of": _FORMULA_VALUE,
    "percentages.percent_change": _FORMULA_VALUE,
    "order_of_operations.evaluate": profile("value", (0, 0), None, "fraction grouping power"),
    "integers.add_subtract": profile("value", (0, 0), None),
    "integers.multiply_divide": profile("value", (0, 0), None, "fraction"),
    "area.rectangle": _GIVEN_OR_SOLVED,
    "area.triangle": _GIVEN_OR_SOLVED,
    "area.circle": _FORMULA_VALUE,
    "perimeter.rectangle": _GIVEN_OR_SOLVED,
    "perimeter.circumference": _FORMULA_VALUE,
    "pythagorean.hypotenuse": _FORMULA_VALUE,
    "pythagorean.leg": _FORMULA_VALUE,
}
"""What each skill's problems look like; a test holds every procedural item to its profile."""
