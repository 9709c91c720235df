"""Wrong answers that real misconceptions lead to: their tags, and the choice of distinct ones."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from fractions import Fraction

from practicegen.generation.procedural.base import Wrong
from practicegen.generation.procedural.render import Number

SIGN_ERROR = "sign_error"
WRONG_OPERATION_ORDER = "wrong_operation_order"
ADDED_INSTEAD_OF_SUBTRACTED = "added_instead_of_subtracted"
SUBTRACTED_INSTEAD_OF_ADDED = "subtracted_instead_of_added"
MULTIPLIED_INSTEAD_OF_DIVIDED = "multiplied_instead_of_divided"
DIVIDED_INSTEAD_OF_MULTIPLIED = "divided_instead_of_multiplied"
FORGOT_TO_DISTRIBUTE = "forgot_to_distribute"
INVERTED_FRACTION = "inverted_fraction"
AREA_PERIMETER_CONFUSION = "area_perimeter_confusion"
SQUARED_INSTEAD_OF_DOUBLED = "squared_instead_of_doubled"
FLIPPED_INEQUALITY_NEEDLESSLY = "flipped_inequality_needlessly"
ADDED_NUMERATORS_AND_DENOMINATORS = "added_numerators_and_denominators"
MULTIPLIED_EXPONENTS = "multiplied_exponents_instead_of_adding"
ADDED_EXPONENTS = "added_exponents_instead_of_multiplying"
MULTIPLIED_BASE_BY_EXPONENT = "multiplied_base_by_exponent"
NEGATIVE_EXPONENT_AS_NEGATIVE = "negative_exponent_gives_negative_number"
FORGOT_TO_HALVE = "forgot_to_halve"
FORGOT_SQUARE_ROOT = "forgot_square_root"
DECIMAL_POINT_MISPLACED = "decimal_point_misplaced"
DROPPED_A_SOLUTION = "dropped_a_solution"
SOLVED_WITH_WRONG_SIGN = "factor_sign_error"
STOPPED_EARLY = "stopped_one_step_early"
WRONG_INVERSE_OPERATION = "used_wrong_inverse_operation"
MOVED_TERM_WITHOUT_SIGN_CHANGE = "moved_term_without_changing_sign"
ADDED_INSTEAD_OF_MULTIPLIED = "added_instead_of_multiplied"
ARITHMETIC_SLIP = "arithmetic_slip"

MAX_WRONGS = 4


def near_misses(value: Number) -> list[Fraction]:
    """Plausible slips around a value, nearest first, for topping up a list of choices."""
    q = Fraction(value)
    step = Fraction(1, q.denominator) if q.denominator > 1 else Fraction(1)
    return [q + step, q - step, q + 2 * step, q - 2 * step, q * 2, q + 10 * step, -q - step]


def select(
    key: Hashable,
    candidates: Iterable[tuple[Hashable, Wrong]],
    *,
    top_up: Callable[[int], tuple[Hashable, Wrong]] | None = None,
    need: int = 3,
) -> tuple[Wrong, ...]:
    """Distinct wrong answers (by canonical value and by LaTeX), none equal to the key; then
    `top_up(0)`, `top_up(1)`... until `need` are found."""
    seen_values: set[Hashable] = {key}
    seen_latex: set[str] = set()
    chosen: list[Wrong] = []

    def offer(canon: Hashable, wrong: Wrong) -> None:
        if canon in seen_values or wrong.latex in seen_latex or len(chosen) >= MAX_WRONGS:
            return
        seen_values.add(canon)
        seen_latex.add(wrong.latex)
        chosen.append(wrong)

    for canon, wrong in candidates:
        offer(canon, wrong)
    index = 0
    while top_up is not None and len(chosen) < need and index < 50:
        offer(*top_up(index))
        index += 1
    return tuple(chosen)
