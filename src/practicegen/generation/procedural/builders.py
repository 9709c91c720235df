"""Which function builds each skill's problems (the skills are `catalog`'s). Only what builds
items imports this, as the builders read and solve with sympy.
"""

from __future__ import annotations

from practicegen.generation.procedural import (
    decimals,
    exponents,
    expressions,
    fractions,
    geometry,
    inequalities,
    integers,
    linear,
    linear_advanced,
    order_of_operations,
    percentages,
    pythagorean,
    quadratics,
    slope,
    systems,
)
from practicegen.generation.procedural.base import Builder

BUILDERS: dict[str, Builder] = {
    "linear_equations.one_step": linear.one_step,
    "linear_equations.two_step": linear.two_step,
    "linear_equations.both_sides": linear.both_sides,
    "linear_equations.distribution": linear_advanced.distribution,
    "linear_equations.fractions": linear_advanced.with_fractions,
    "inequalities.one_step": inequalities.one_step,
    "inequalities.two_step": inequalities.two_step,
    "systems.substitution": systems.substitution,
    "systems.elimination": systems.elimination,
    "quadratics.factoring": quadratics.factoring,
    "quadratics.square_root": quadratics.square_root,
    "expressions.combine_like_terms": expressions.combine_like_terms,
    "expressions.distribute": expressions.distribute,
    "exponents.rules": exponents.rules,
    "exponents.evaluate": exponents.evaluate,
    "slope.two_points": slope.two_points,
    "slope.from_equation": slope.from_equation,
    "fractions.add": fractions.add,
    "fractions.subtract": fractions.subtract,
    "fractions.multiply": fractions.multiply,
    "fractions.divide": fractions.divide,
    "decimals.add_subtract": decimals.add_subtract,
    "decimals.multiply_divide": decimals.multiply_divide,
    "percentages.percent_of": percentages.percent_of,
    "percentages.percent_change": percentages.percent_change,
    "order_of_operations.evaluate": order_of_operations.evaluate,
    "integers.add_subtract": integers.add_subtract,
    "integers.multiply_divide": integers.multiply_divide,
    "area.rectangle": geometry.rectangle_area,
    "area.triangle": geometry.triangle_area,
    "area.circle": geometry.circle_area,
    "perimeter.rectangle": geometry.rectangle_perimeter,
    "perimeter.circumference": geometry.circumference,
    "pythagorean.hypotenuse": pythagorean.hypotenuse,
    "pythagorean.leg": pythagorean.leg,
}
