"""Grading one answer against an item's key: pure, synchronous and deterministic, but unbounded
in time on some inputs (sympy's `simplify`), so the service grades only through `Grader`.

Policies:
    EQUIVALENT         equal values: exact arithmetic on rationals, else sampling at fixed
                       points, then `simplify(a - b) == 0`, then sympy's `equals`
    SOLUTION_SET       equal solution sets: `x = 4`, `4` and `{4}` agree; inequalities compare
                       as intervals; systems as points in variable-name order
    NUMERIC_TOLERANCE  |answer - key| <= tolerance (inclusive, tolerance read as a decimal)
    EXACT_FORM         equal AND written in the key's form, up to order of terms and factors
                       and where a sign is written: `6/8`, `2x+2x`, `3+4` and `sqrt(8)` are
                       not_simplified against `3/4`, `4x`, `7` and `2sqrt(2)`; a decimal
                       matches a decimal key only
    CHOICE             the choice id, case-insensitive, ignoring spaces and `(B)`-style marks
"""

from __future__ import annotations

import cmath
from collections.abc import Callable
from functools import lru_cache

import sympy

from practicegen.grading import answer_cost, answers
from practicegen.grading import solutions as solutions_
from practicegen.grading.answers import Expr, Node
from practicegen.grading.forms import form
from practicegen.grading.grades import (
    AnswerKey,
    FeedbackCode,
    Grade,
    InvalidKey,
    too_complex,
    verdict,
    without_thousands_commas,
)
from practicegen.grading.solutions import Solutions
from practicegen.grading.values import to_sympy
from practicegen.ports import AnswerPolicy, ItemType

KEY_MAX_LENGTH = 1000  # keys are trusted more than answers, but still read with a cap


Same = Callable[[Expr, Expr], bool]


def grade_answer(
    answer: str,
    key: AnswerKey,
    *,
    max_length: int = 200,
    max_weight: int = answer_cost.DEFAULT_MAX_WEIGHT,
) -> Grade:
    """Grade `answer` against `key`; raises `InvalidKey` only when the key cannot be read."""
    text = answer.strip()
    if not text or len(text) > max_length:
        return verdict(FeedbackCode.TOO_LONG if text else FeedbackCode.EMPTY_ANSWER)
    if key.is_choice:
        return _grade_choice(text, key)
    if too_complex(text, key, max_length=max_length, max_weight=max_weight):
        return verdict(FeedbackCode.TOO_COMPLEX)
    try:
        return (_grade_solutions if key.is_set else _grade_value)(text, key, max_length)
    except answers.AnswerError as exc:
        return verdict(_UNREADABLE.get(type(exc), FeedbackCode.UNPARSEABLE), exc.reason)


_UNREADABLE = {answers.TooLong: FeedbackCode.TOO_LONG, answers.NotASolution: FeedbackCode.INCORRECT}


def read_key(key: AnswerKey) -> None:
    """Read `key` as `grade_answer` will; `InvalidKey` if no answer could be graded against it."""
    if key.is_choice:
        if key.answer.strip().casefold() not in {c.casefold() for c in key.choice_ids}:
            raise InvalidKey(f"the key {key.answer!r} is not one of the choice ids")
        return
    if key.is_set:
        _key_solutions(key.answer)
        return
    _, value = _key_value(key.answer)
    numeric = key.type is ItemType.NUMERIC or key.policy is AnswerPolicy.NUMERIC_TOLERANCE
    if numeric and value.free_symbols:
        raise InvalidKey(f"cannot read the key {key.answer!r}: a number is asked for")


def _grade_choice(text: str, key: AnswerKey) -> Grade:
    ids = {choice.casefold() for choice in key.choice_ids}
    picked = text.casefold()
    if ids and picked not in ids:
        picked = picked.strip("().: ")
    if ids and picked not in ids:
        return verdict(FeedbackCode.INVALID_CHOICE)
    right = picked == key.answer.strip().casefold()
    return verdict(FeedbackCode.CORRECT if right else FeedbackCode.INCORRECT)


def _grade_value(text: str, key: AnswerKey, max_length: int) -> Grade:
    expected_node, expected = _key_value(key.answer)
    if key.type is ItemType.NUMERIC:
        text = without_thousands_commas(text)
    written = answers.read(text, max_length=max_length)
    assigned = solutions_.assigned_value(written) if key.type is ItemType.NUMERIC else None
    node = assigned or solutions_.expression(written)
    value = to_sympy(node)
    if value.free_symbols - expected.free_symbols:
        if not expected.free_symbols:
            return verdict(FeedbackCode.INCORRECT, "The answer should be a number.")
        return verdict(FeedbackCode.WRONG_VARIABLE)
    same = _comparison(key)
    if same(value, expected):
        if key.policy is AnswerPolicy.EXACT_FORM and form(node) != form(expected_node):
            return verdict(FeedbackCode.NOT_SIMPLIFIED)
        return verdict(FeedbackCode.CORRECT)
    if same(-value, expected) and not same(-expected, expected):
        return verdict(FeedbackCode.SIGN_ERROR)
    return verdict(FeedbackCode.INCORRECT)


def _grade_solutions(text: str, key: AnswerKey, max_length: int) -> Grade:
    expected = _key_solutions(key.answer)
    written = answers.read(text, max_length=max_length)
    given = solutions_.solutions(written)
    point = solutions_.listed_point(written)
    if len(expected.variables) > 1 and not given.variables and point is not None:
        coords = sympy.Tuple(*(to_sympy(c) for c in point.coords))
        given = Solutions((), sympy.FiniteSet(coords), point.coords)
    if given.variables and expected.variables and given.variables != expected.variables:
        if set(given.variables) < set(expected.variables):
            return verdict(FeedbackCode.INCORRECT, f"Give {' and '.join(expected.variables)}.")
        return verdict(FeedbackCode.WRONG_VARIABLE)
    code = compare_sets(given.points, expected.points, _comparison(key))
    exact = key.policy is AnswerPolicy.EXACT_FORM
    if code is FeedbackCode.CORRECT and exact and not _forms_match(given.written, expected.written):
        return verdict(FeedbackCode.NOT_SIMPLIFIED)
    return verdict(code)


@lru_cache(maxsize=1024)
def _key_value(text: str) -> tuple[Node, Expr]:
    try:
        node = solutions_.expression(answers.read(text, max_length=KEY_MAX_LENGTH))
        return node, to_sympy(node)
    except answers.AnswerError as exc:
        raise InvalidKey(f"cannot read the key {text!r}: {exc.reason}") from exc


@lru_cache(maxsize=1024)
def _key_solutions(text: str) -> Solutions:
    try:
        return solutions_.solutions(answers.read(text, max_length=KEY_MAX_LENGTH))
    except answers.AnswerError as exc:
        raise InvalidKey(f"cannot read the key {text!r}: {exc.reason}") from exc


def _comparison(key: AnswerKey) -> Same:
    if key.policy is not AnswerPolicy.NUMERIC_TOLERANCE:
        return same_value
    tolerance = sympy.Rational(str(max(key.tolerance or 0.0, 0.0)))
    return lambda a, b: within(a, b, tolerance)


# Sample points: fixed, so grading is reproducible; irregular, so identities that only hold at
# small integers do not pass; both signs, so `sqrt(x^2)` and `x` differ.
_SAMPLES = tuple(
    sympy.Rational(p, q) for p, q in ((7, 13), (-11, 7), (29, 17), (-5, 3), (31, 11), (-2, 9))
)
_RELATIVE = 1e-9


def same_value(a: Expr, b: Expr) -> bool:
    """Whether two sympy values are equal (expressions: for every value of their variables)."""
    difference = a - b
    if difference == 0:
        return True
    if difference.is_Rational or _differs_somewhere(difference, a, b):
        return False
    return bool(sympy.simplify(difference) == 0) or difference.equals(0) is not False


def _differs_somewhere(difference: Expr, a: Expr, b: Expr) -> bool:
    symbols = sorted(difference.free_symbols, key=str)
    for k in range(len(_SAMPLES) if symbols else 1):
        point = {s: _SAMPLES[(k + 2 * j) % len(_SAMPLES)] + j for j, s in enumerate(symbols)}
        gap, left, right = (_numeric(e, point) for e in (difference, a, b))
        if gap is None or left is None or right is None:
            continue
        if abs(gap) > _RELATIVE * max(1.0, abs(left), abs(right)):
            return True
    return False


def _numeric(value: Expr, point: dict[Expr, Expr]) -> complex | None:
    try:
        number = complex(value.evalf(30, subs=point))
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return number if cmath.isfinite(number) else None


def within(a: Expr, b: Expr, tolerance: Expr) -> bool:
    """|a - b| <= tolerance, for two numbers (False if either has a variable)."""
    difference = a - b
    if difference.free_symbols:
        return False
    if difference.is_Rational:
        return bool(abs(difference) <= tolerance)
    gap = sympy.Abs(difference).evalf(30)
    return bool(gap.is_number and gap.is_extended_real and gap <= tolerance)


def compare_sets(given: Expr, expected: Expr, same: Same) -> FeedbackCode:
    """How a solution set `given` compares with the key's `expected`."""
    if sets_equal(given, expected, same):
        return FeedbackCode.CORRECT
    if not (isinstance(given, sympy.FiniteSet) and isinstance(expected, sympy.FiniteSet)):
        return FeedbackCode.INCORRECT
    negated = _negated(expected)
    if sets_equal(given, negated, same) and not sets_equal(expected, negated, same):
        return FeedbackCode.SIGN_ERROR
    if any(_element_equal(g, e, same) for g in given for e in expected):
        return FeedbackCode.PARTIAL_SOLUTION_SET
    return FeedbackCode.INCORRECT


def sets_equal(a: Expr, b: Expr, same: Same) -> bool:
    if isinstance(a, sympy.FiniteSet) and isinstance(b, sympy.FiniteSet):
        return all(any(_element_equal(x, y, same) for y in b) for x in a) and all(
            any(_element_equal(x, y, same) for x in a) for y in b
        )
    if isinstance(a, sympy.Interval) and isinstance(b, sympy.Interval):
        return (
            (a.left_open, a.right_open) == (b.left_open, b.right_open)
            and _bound_equal(a.start, b.start, same)
            and _bound_equal(a.end, b.end, same)
        )
    if isinstance(a, sympy.Union) and isinstance(b, sympy.Union) and len(a.args) == len(b.args):
        return all(sets_equal(x, y, same) for x, y in zip(_pieces(a), _pieces(b), strict=True))
    return bool(a == b)


def _pieces(union: Expr) -> list[Expr]:
    return sorted(union.args, key=lambda piece: (float(piece.inf), float(piece.sup)))


def _bound_equal(a: Expr, b: Expr, same: Same) -> bool:
    return bool(a == b) if a.is_infinite or b.is_infinite else same(a, b)


def _element_equal(a: Expr, b: Expr, same: Same) -> bool:
    if isinstance(a, sympy.Tuple) or isinstance(b, sympy.Tuple):
        if not (isinstance(a, sympy.Tuple) and isinstance(b, sympy.Tuple)) or len(a) != len(b):
            return False
        return all(same(x, y) for x, y in zip(a, b, strict=True))
    return same(a, b)


def _negated(points: Expr) -> Expr:
    def negate(e: Expr) -> Expr:
        return sympy.Tuple(*(-c for c in e)) if isinstance(e, sympy.Tuple) else -e

    return sympy.FiniteSet(*(negate(e) for e in points))


def _forms_match(given: tuple[Node, ...], expected: tuple[Node, ...]) -> bool:
    """Every value written in the answer is written like an equal value in the key."""
    keys = [(to_sympy(n), form(n)) for n in expected]
    written = [(to_sympy(n), form(n)) for n in given]
    return all(any(s == ks and same_value(v, kv) for kv, ks in keys) for v, s in written)
