"""The independent check: it passes sound items and catches each kind of fault we can plant
(a wrong key, a step that changes the solution, a distractor equal to the key, an unsimplified
exact-form key, a revealing hint, a stem that hides the problem, an unsafe problem string)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import sympy

from practicegen.generation.procedural import mathparse as mp
from practicegen.generation.procedural.checks import check_item
from practicegen.generation.procedural.registry import generate
from practicegen.items.schemas import ItemContent
from practicegen.ports import AnswerPolicy, ItemType

x, y = sympy.symbols("x y")


def hand_written(**changes: Any) -> ItemContent:
    """A sound item written without the generators, changed by `changes`."""
    fields: dict[str, Any] = {
        "subject": "Algebra",
        "topic": "Linear Equations",
        "skill": "linear_equations.two_step",
        "type": ItemType.EQUATION,
        "stem": "Solve for $x$: $2x + 3 = 11$",
        "answer": "x = 4",
        "answer_policy": AnswerPolicy.SOLUTION_SET,
        "hints": ["Undo the addition first."],
        "solution": "1. Subtract 3: $2x = 8$\n2. Divide by 2: $x = 4$",
        "provenance": {
            "kind": "equation",
            "problem": "2*x + 3 = 11",
            "steps": ["2*x = 8", "x = 4"],
            "key": "x = 4",
            "distractors": [{"value": "x = 7", "misconception": "added_instead_of_subtracted"}],
        },
    }
    provenance = changes.pop("provenance", {})
    fields.update(changes)
    fields["provenance"] = {**fields["provenance"], **provenance}
    return ItemContent(**fields)


def with_provenance(item: ItemContent, **changes: Any) -> ItemContent:
    provenance = copy.deepcopy(item.provenance)
    provenance.update(changes)
    return item.model_copy(update={"provenance": provenance})


def problems_of(item: ItemContent) -> str:
    return " | ".join(check_item(item).problems)


def test_a_sound_hand_written_item_passes() -> None:
    assert check_item(hand_written()).ok


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"answer": "x = 5", "provenance": {"key": "x = 5"}}, "is not the answer"),
        ({"provenance": {"steps": ["2*x = 9", "x = 4"]}}, "step 1"),
        ({"provenance": {"distractors": [{"value": "4", "misconception": "m"}]}}, "equals the key"),
        ({"hints": ["Subtract 3, divide by 2 and you get x = 4."]}, "gives the answer away"),
        ({"stem": "Solve the equation for $x$."}, "does not show"),
        ({"hints": []}, "1 to 3 hints"),
        ({"provenance": {"problem": "__import__('os').getcwd()"}}, "unreadable"),
        ({"provenance": {"problem": "eval(1) = x"}}, "unknown names"),
        ({"provenance": {"problem": "x = 9**9**9"}}, "too large"),
    ],
)
def test_planted_faults_are_caught(changes: dict[str, Any], expected: str) -> None:
    assert expected in problems_of(hand_written(**changes))


def test_an_item_without_a_machine_readable_problem_is_reported() -> None:
    item = hand_written().model_copy(update={"provenance": {}})
    assert "provenance lacks" in problems_of(item)


def test_an_unsimplified_exact_form_key_is_caught() -> None:
    item = _free_response("fractions.add", 2)
    assert check_item(item).ok
    value = sympy.Rational(str(item.provenance["key"]))
    unreduced = f"{value.p * 2}/{value.q * 2}"
    bad = with_provenance(item.model_copy(update={"answer": unreduced}), key=unreduced)
    assert "not simplest" in problems_of(bad)


def test_uncombined_terms_in_an_exact_form_expression_key_are_caught() -> None:
    item = generate("expressions.combine_like_terms", 1, 0)
    key = str(item.provenance["key"])
    loose = f"{key} + x - x"
    bad = with_provenance(item.model_copy(update={"answer": loose}), key=loose)
    assert "uncombined" in problems_of(bad)


def _multiple_choice(skill: str, level: int) -> ItemContent:
    for seed in range(50):
        item = generate(skill, level, seed)
        if item.type is ItemType.MULTIPLE_CHOICE:
            return item
    raise AssertionError(f"no multiple-choice item for {skill}")


def test_a_distractor_equal_to_the_key_is_caught_in_the_choices() -> None:
    item = _multiple_choice("exponents.rules", 1)
    values = dict(item.provenance["choice_values"])
    wrong_id = next(cid for cid in values if cid != item.answer)
    values[wrong_id] = item.provenance["key"]
    assert "equals the key" in problems_of(with_provenance(item, choice_values=values))


def test_a_correct_choice_that_does_not_hold_the_key_is_caught() -> None:
    item = _multiple_choice("order_of_operations.evaluate", 1)
    wrong_id = next(c.id for c in item.choices if c.id != item.answer)
    moved = item.model_copy(update={"answer": wrong_id})
    assert "correct choice" in problems_of(moved)


def _free_response(skill: str, level: int) -> ItemContent:
    items = (generate(skill, level, seed) for seed in range(50))
    return next(item for item in items if item.type is not ItemType.MULTIPLE_CHOICE)


def test_a_rounded_answer_is_judged_within_its_tolerance() -> None:
    item = _free_response("area.circle", 2)
    assert item.answer_policy is AnswerPolicy.NUMERIC_TOLERANCE and check_item(item).ok
    off = str(sympy.Rational(str(item.provenance["key"])) + sympy.Rational(2, 10))
    assert "is not the answer" in problems_of(
        with_provenance(item.model_copy(update={"answer": off}), key=off)
    )


@pytest.mark.parametrize(
    ("skill", "level", "bad_key"),
    [
        ("inequalities.one_step", 3, "flip"),
        ("systems.elimination", 2, "swap"),
        ("slope.from_equation", 3, "negate"),
        ("quadratics.factoring", 3, "drop"),
    ],
)
def test_wrong_keys_of_every_kind_are_caught(skill: str, level: int, bad_key: str) -> None:
    item = _free_response(skill, level)
    key = str(item.provenance["key"])
    wrong = {
        "flip": lambda: key.replace("<", "#").replace(">", "<").replace("#", ">"),
        "swap": lambda: "x = {1}, y = {0}".format(*(p.split("=")[1] for p in key.split(","))),
        "negate": lambda: f"-({key})",
        "drop": lambda: key.split(" or ", maxsplit=1)[0],
    }[bad_key]()
    bad = with_provenance(item.model_copy(update={"answer": wrong}), key=wrong)
    assert "is not the answer" in problems_of(bad)


def test_equations_are_solved_over_the_reals() -> None:
    assert mp.solve_equation("x**2 - 4 = 0", x) == sympy.FiniteSet(-2, 2)
    assert mp.solve_equation("x**2 + 1 = 0", x) == sympy.S.EmptySet
    assert mp.solve_equation("x + 1 = x + 2", x) == sympy.S.EmptySet
    assert mp.solve_equation("2*(x + 1) = 2*x + 2", x) == sympy.S.Reals
    assert mp.solve_equation("x - 1 = 0 or x + 3 = 0", x) == sympy.FiniteSet(-3, 1)
    root = sympy.sqrt(5)
    assert mp.solve_equation("(x - 2)**2 = 5", x) == sympy.FiniteSet(2 - root, 2 + root)


def test_answers_are_read_in_the_grader_formats() -> None:
    assert mp.solution_set("x = 2 or x = -3", x) == sympy.FiniteSet(-3, 2)
    assert mp.solution_set("7/2", x) == sympy.FiniteSet(sympy.Rational(7, 2))
    assert mp.solution_set("no solution", x) == sympy.S.EmptySet
    assert mp.system_answer("x = 1, y = -2", (x, y)) == sympy.FiniteSet((1, -2))
    with pytest.raises(mp.Unreadable):
        mp.solution_set("y = 2", x)


def test_inequalities_flip_for_a_negative_coefficient() -> None:
    assert mp.solve_inequality("-2*x + 3 > 11", x) == sympy.Interval.open(-sympy.oo, -4)
    assert mp.solve_inequality("x >= -7/3", x) == sympy.Interval(sympy.Rational(-7, 3), sympy.oo)


def test_systems_lines_and_named_quantities() -> None:
    assert mp.solve_system("x + y = 3; x - y = 1", (x, y)) == sympy.FiniteSet((2, 1))
    assert mp.line_in_y("2*x + 3*y = 6") == -2 * x / 3 + 2
    assert mp.expr("hypotenuse(5, 12)") == 13
    assert mp.expr("percent_of(12.5, 80)") == 10
    assert mp.expr("0.1 + 0.2") == sympy.Rational(3, 10)
    assert mp.expr("slope(-1, 2, 3, 4)") == sympy.Rational(1, 2)


def test_numbers_in_text_are_normalised() -> None:
    assert mp.numbers_in("$\\frac{3}{4} + 2.50 - 07$") == {"3", "4", "2.5", "7"}
