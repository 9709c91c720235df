"""The whitelist reader: hostile text is refused quickly with a reason; every format parses."""

from __future__ import annotations

import time

import pytest
import sympy

from practicegen.grading import answers, solutions, values
from practicegen.grading.answers import AnswerError, Node, Point, Relation, TooLong

x, y = sympy.Symbol("x", real=True), sympy.Symbol("y", real=True)


def value(text: str) -> object:
    return values.to_sympy(solutions.expression(answers.read(text)))


def solution_set(text: str) -> solutions.Solutions:
    return solutions.solutions(answers.read(text))


def refusal(text: str, *, max_length: int = 200) -> str:
    started = time.perf_counter()
    with pytest.raises(AnswerError) as caught:
        values.to_sympy(solutions.expression(answers.read(text, max_length=max_length)))
    # generous: a refusal takes milliseconds, one that recursed or backtracked would take seconds
    assert time.perf_counter() - started < 2, f"refusing {text[:40]!r} was slow"
    return caught.value.reason


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("__import__('os')", "Underscores"),
        ("__import__('os').system('true')", "Underscores"),
        ("lambda: 1", "'lambda'"),
        ("x.__class__", "'.'"),
        ("(1).real", "'.'"),
        ('"a"', "Quotes"),
        ("'a'", "Quotes"),
        ("[1, 2]", "parentheses"),
        ("exec(1)", "'exec'"),
        ("eval", "'eval'"),
        ("sin(x)", "'sin'"),
        ("x; y", "';'"),
        ("x != 1", "'!'"),
        ("2 @ 3", "'@'"),
        ("9**9**9", "too large"),
        ("2^2^2^2^2^2", "too large"),
        ("10^1001", "too large"),
        ("(10^100)^100", "too large"),
        ("x^1000", "Exponents"),
        ("(x^20)^20", "Exponents"),
        ("sqrt(2)^10000", "Exponents"),
        ("1/0", "divides by zero"),
        ("x/(x-x)", "divides by zero"),
        ("(" * 30 + "1" + ")" * 30, "nested"),
        ("-" * 60 + "1", "nested"),
        ("2x+", "ends too early"),
        ("(2x+3", "expected ')'"),
        ("2x+3)", "Unexpected ')'"),
        ("sqrt 2", "expected '('"),
        ("1 < x < 2 < 3", "at most two"),
    ],
)
def test_dangerous_or_malformed_text_is_refused_with_a_reason(text: str, reason: str) -> None:
    assert reason in refusal(text)


def test_a_long_answer_is_refused_before_it_is_read() -> None:
    started = time.perf_counter()
    with pytest.raises(TooLong, match="200 characters"):
        answers.read("x+" * 5_000)
    assert time.perf_counter() - started < 0.05


def test_deep_nesting_is_refused_even_under_a_generous_length_cap() -> None:
    assert "nested" in refusal("(" * 5_000 + "x" + ")" * 5_000, max_length=20_000)
    assert "nested" in refusal("2^" * 3_000 + "2", max_length=20_000)


def test_long_chains_are_refused_before_anything_recurses_on_them() -> None:
    for chain in ("1+" * 400 + "1", "x*" * 400 + "x", "2/" * 400 + "2", "x-" * 400 + "x"):
        assert "in a row" in refusal(chain, max_length=1_000)
    assert value("+".join(["x"] * 60)) == 60 * x


def test_sympy_names_are_plain_variables_here() -> None:
    for letter in "eiosqn":
        assert value(letter) == sympy.Symbol(letter, real=True)
    assert value("E") == sympy.Symbol("e", real=True)  # not Euler's number
    assert value("I") == sympy.Symbol("i", real=True)  # not the imaginary unit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7", sympy.Integer(7)),
        ("-3", sympy.Integer(-3)),
        ("3/4", sympy.Rational(3, 4)),
        ("0.75", sympy.Rational(3, 4)),
        ("2.5", sympy.Rational(5, 2)),
        ("-1/2", sympy.Rational(-1, 2)),
        ("0.33", sympy.Rational(33, 100)),
        ("sqrt(2)", sympy.sqrt(2)),
        ("3*sqrt(2)", 3 * sympy.sqrt(2)),
        ("pi", sympy.pi),
        ("2pi", 2 * sympy.pi),
        ("abs(-4)", sympy.Integer(4)),
        ("2*x + 3", 2 * x + 3),
        ("2x+3", 2 * x + 3),
        ("x^2 - 1", x**2 - 1),
        ("x**2 - 1", x**2 - 1),
        ("(x+1)(x-1)", (x + 1) * (x - 1)),
        ("3(x - 2)", 3 * (x - 2)),
        ("-x^2", -(x**2)),
        ("2^3^2", sympy.Integer(512)),
        ("2^-1", sympy.Rational(1, 2)),
        ("1/2x", x / 2),
        ("2xy", 2 * x * y),
        ("x\u00b2 \u2212 1", x**2 - 1),
        ("3\u00d7\u221a2", 3 * sympy.sqrt(2)),
        ("\u03c0", sympy.pi),
    ],
)
def test_numbers_and_expressions_parse(text: str, expected: object) -> None:
    assert value(text) == expected


def test_the_tree_keeps_the_form_as_written() -> None:
    tree = solutions.expression(answers.read("6/8"))
    assert tree == Node("/", (Node("num", text="6"), Node("num", text="8")))
    assert solutions.expression(answers.read("0.75")) == Node("dec", text="0.75")


@pytest.mark.parametrize(
    ("text", "variables", "points"),
    [
        ("x = 4", ("x",), sympy.FiniteSet(4)),
        ("4 = x", ("x",), sympy.FiniteSet(4)),
        ("4", (), sympy.FiniteSet(4)),
        ("{4}", (), sympy.FiniteSet(4)),
        ("x = 2 or x = -3", ("x",), sympy.FiniteSet(2, -3)),
        ("x = 2, x = -3", ("x",), sympy.FiniteSet(2, -3)),
        ("{2, -3}", (), sympy.FiniteSet(2, -3)),
        ("2, -3", (), sympy.FiniteSet(2, -3)),
        ("no solution", (), sympy.S.EmptySet),
        ("{}", (), sympy.S.EmptySet),
        ("all real numbers", (), sympy.S.Reals),
        ("x > 3", ("x",), sympy.Interval.open(3, sympy.oo)),
        ("x >= -2", ("x",), sympy.Interval(-2, sympy.oo)),
        ("x \u2264 5", ("x",), sympy.Interval(-sympy.oo, 5)),
        ("-2 < x <= 4", ("x",), sympy.Interval.Lopen(-2, 4)),
        (
            "x < -1 or x > 2",
            ("x",),
            sympy.Interval.open(-sympy.oo, -1) | sympy.Interval.open(2, sympy.oo),
        ),
        ("x = 1, y = 2", ("x", "y"), sympy.FiniteSet((1, 2))),
        ("y = 2 and x = 1", ("x", "y"), sympy.FiniteSet((1, 2))),
        ("(1, 2)", (), sympy.FiniteSet((1, 2))),
    ],
)
def test_solution_sets_parse(text: str, variables: tuple[str, ...], points: object) -> None:
    found = solution_set(text)
    assert found.variables == variables
    assert found.points == points


def test_structure_of_relations_and_points() -> None:
    chain = answers.read("-2 < x <= 4").clauses[0]
    assert isinstance(chain, Relation) and chain.ops == ("<", "<=")
    point = answers.read("(1, 2)").clauses[0]
    assert isinstance(point, Point) and len(point.coords) == 2


@pytest.mark.parametrize("text", ["2x = 8", "x = y", "x + 1", "1 < x > 3", "x = 1 or y = 2"])
def test_what_is_not_a_solution_says_so(text: str) -> None:
    with pytest.raises(answers.NotASolution):
        solution_set(text)
