"""Every procedural skill in one table: its curriculum place, the judged Rasch difficulty of
each level, and what it asks. Plain data, so the catalogue and the matching of requests read it
without loading the builders, named here by module and function, which solve with sympy.
"""

from __future__ import annotations

from practicegen.generation.procedural.base import SkillDef
from practicegen.generation.protocol import SkillSpec

_Row = tuple[str, str, tuple[float, ...]]  # skill, its builder (module.function), difficulties

_TOPICS: dict[tuple[str, str], tuple[_Row, ...]] = {
    ("Algebra", "Linear Equations"): (
        ("linear_equations.one_step", "linear.one_step", (-2.0, -1.3, -0.6, 0.2)),
        ("linear_equations.two_step", "linear.two_step", (-1.2, -0.5, 0.3, 0.8)),
        ("linear_equations.both_sides", "linear.both_sides", (-0.4, 0.3, 1.0)),
        ("linear_equations.distribution", "linear_advanced.distribution", (-0.3, 0.5, 1.3)),
        ("linear_equations.fractions", "linear_advanced.with_fractions", (0.0, 0.8, 1.5)),
    ),
    ("Algebra", "Inequalities"): (
        ("inequalities.one_step", "inequalities.one_step", (-1.3, -0.5, 0.4)),
        ("inequalities.two_step", "inequalities.two_step", (-0.4, 0.4, 1.2)),
    ),
    ("Algebra", "Systems of Equations"): (
        ("systems.substitution", "systems.substitution", (-0.2, 0.5, 1.0)),
        ("systems.elimination", "systems.elimination", (0.2, 0.9, 1.5)),
    ),
    ("Algebra", "Quadratic Equations"): (
        ("quadratics.factoring", "quadratics.factoring", (0.0, 0.6, 1.2, 1.8)),
        ("quadratics.square_root", "quadratics.square_root", (-0.5, 0.4, 1.3)),
    ),
    ("Algebra", "Expressions"): (
        ("expressions.combine_like_terms", "expressions.combine_like_terms", (-1.5, -0.6, 0.3)),
        ("expressions.distribute", "expressions.distribute", (-1.0, -0.2, 0.5, 1.1)),
    ),
    ("Algebra", "Exponents"): (
        ("exponents.rules", "exponents.rules", (-0.8, -0.1, 0.6, 1.3)),
        ("exponents.evaluate", "exponents.evaluate", (-1.6, -0.5, 0.6)),
    ),
    ("Algebra", "Slope"): (
        ("slope.two_points", "slope.two_points", (-0.9, -0.1, 0.7)),
        ("slope.from_equation", "slope.from_equation", (-1.2, -0.2, 0.6)),
    ),
    ("Arithmetic", "Fractions"): (
        ("fractions.add", "fractions.add", (-1.8, -0.9, 0.0)),
        ("fractions.subtract", "fractions.subtract", (-1.6, -0.7, 0.2)),
        ("fractions.multiply", "fractions.multiply", (-1.7, -1.1, -0.1)),
        ("fractions.divide", "fractions.divide", (-1.2, -0.6, 0.3)),
    ),
    ("Arithmetic", "Decimals"): (
        ("decimals.add_subtract", "decimals.add_subtract", (-2.0, -1.2, -0.3)),
        ("decimals.multiply_divide", "decimals.multiply_divide", (-1.5, -0.7, 0.2)),
    ),
    ("Arithmetic", "Percentages"): (
        ("percentages.percent_of", "percentages.percent_of", (-1.6, -0.8, 0.1)),
        ("percentages.percent_change", "percentages.percent_change", (-0.9, -0.5, 0.5)),
    ),
    ("Arithmetic", "Order of Operations"): (
        ("order_of_operations.evaluate", "order_of_operations.evaluate", (-1.4, -0.6, 0.3)),
    ),
    ("Arithmetic", "Integers"): (
        ("integers.add_subtract", "integers.add_subtract", (-2.2, -1.4, -0.6)),
        ("integers.multiply_divide", "integers.multiply_divide", (-2.0, -1.5, -0.5)),
    ),
    ("Geometry", "Area"): (
        ("area.rectangle", "geometry.rectangle_area", (-2.0, -1.0, -0.2)),
        ("area.triangle", "geometry.triangle_area", (-1.3, -0.7, 0.3)),
        ("area.circle", "geometry.circle_area", (-0.8, -0.3, 0.4)),
    ),
    ("Geometry", "Perimeter"): (
        ("perimeter.rectangle", "geometry.rectangle_perimeter", (-2.1, -1.2, -0.1)),
        ("perimeter.circumference", "geometry.circumference", (-1.0, -0.5, 0.1)),
    ),
    ("Geometry", "Pythagorean Theorem"): (
        ("pythagorean.hypotenuse", "pythagorean.hypotenuse", (-0.6, 0.0, 0.9)),
        ("pythagorean.leg", "pythagorean.leg", (-0.2, 0.4, 1.2)),
    ),
}

DESCRIPTIONS: dict[str, str] = {
    "linear_equations.one_step": "Solve a linear equation with one inverse operation.",
    "linear_equations.two_step": "Solve a*x + b = c with two inverse operations.",
    "linear_equations.both_sides": "Solve a linear equation with the variable on both sides.",
    "linear_equations.distribution": (
        "Solve a linear equation with parentheses by distributing first."
    ),
    "linear_equations.fractions": (
        "Solve a linear equation with fractions by clearing denominators."
    ),
    "inequalities.one_step": (
        "Solve a one-step linear inequality, flipping the sign for a negative divisor."
    ),
    "inequalities.two_step": (
        "Solve a two-step linear inequality, with the variable on both sides at level 3."
    ),
    "systems.substitution": "Solve a system of two linear equations by substitution.",
    "systems.elimination": "Solve a system of two linear equations by elimination.",
    "quadratics.factoring": "Solve a quadratic equation by factoring.",
    "quadratics.square_root": "Solve a quadratic equation by taking square roots.",
    "expressions.combine_like_terms": "Simplify an expression by combining like terms.",
    "expressions.distribute": "Expand products with the distributive property and simplify.",
    "exponents.rules": "Simplify monomials with the product, quotient and power rules.",
    "exponents.evaluate": (
        "Evaluate powers, including negative bases and zero or negative exponents."
    ),
    "slope.two_points": "Find the slope of the line through two points.",
    "slope.from_equation": "Find the slope of a line from its equation.",
    "fractions.add": "Add fractions and mixed numbers.",
    "fractions.subtract": "Subtract fractions and mixed numbers.",
    "fractions.multiply": "Multiply fractions, whole numbers and mixed numbers.",
    "fractions.divide": "Divide fractions by multiplying by the reciprocal.",
    "decimals.add_subtract": "Add and subtract decimals, lining up place values.",
    "decimals.multiply_divide": "Multiply and divide decimals.",
    "percentages.percent_of": "Find a percent of a number.",
    "percentages.percent_change": (
        "Apply a percent discount or increase, and find a percent change."
    ),
    "order_of_operations.evaluate": "Evaluate an expression following the order of operations.",
    "integers.add_subtract": "Add and subtract positive and negative integers.",
    "integers.multiply_divide": "Multiply and divide positive and negative integers.",
    "area.rectangle": "Find the area of a rectangle, or a side from the area.",
    "area.triangle": "Find the area of a triangle, or its height from the area.",
    "area.circle": "Find the area of a circle from its radius or diameter.",
    "perimeter.rectangle": "Find the perimeter of a rectangle, or a side from the perimeter.",
    "perimeter.circumference": "Find the circumference of a circle from its radius or diameter.",
    "pythagorean.hypotenuse": "Find the hypotenuse of a right triangle from its legs.",
    "pythagorean.leg": "Find a leg of a right triangle from the hypotenuse and the other leg.",
}

SKILL_DEFS: tuple[SkillDef, ...] = tuple(
    SkillDef(
        SkillSpec(subject, topic, skill, len(difficulty), DESCRIPTIONS[skill]), builder, difficulty
    )
    for (subject, topic), rows in _TOPICS.items()
    for skill, builder, difficulty in rows
)
SKILL_DEFS_BY_NAME: dict[str, SkillDef] = {d.spec.skill: d for d in SKILL_DEFS}
