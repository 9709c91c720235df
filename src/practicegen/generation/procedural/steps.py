"""Shared shapes of drafts: worked steps and the common "solve for x" / "find the number" items.

Most skills end in one of two answer shapes, a single solution `x = v` or a single number, so
the assembly of those drafts (key, LaTeX, wrong answers, check kind and policy) lives here once.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from fractions import Fraction

from practicegen.generation.procedural.base import CheckKind, Draft, Step, Wrong
from practicegen.generation.procedural.distractors import (
    ARITHMETIC_SLIP,
    near_misses,
    select,
    solution_top_up,
)
from practicegen.generation.procedural.render import (
    Number,
    decimal,
    equation,
    num_latex,
    num_plain,
    terminates,
)
from practicegen.ports import AnswerPolicy, ItemType

Pair = tuple[str, str]
Candidates = Iterable[tuple[Hashable, Wrong]]


def eq_step(text: str, lhs: Pair, rhs: Pair) -> Step:
    """A step whose result is the equation lhs = rhs."""
    return Step(text, f"{lhs[0]} = {rhs[0]}", f"{lhs[1]} = {rhs[1]}")


def solved(text: str, var: str, value: Number) -> Step:
    latex, plain = equation(var, value)
    return Step(text, latex, plain)


def pair(value: Number) -> Pair:
    return num_latex(value), num_plain(value)


def solve_stem(problem_latex: str, var: str = "x", *, multiple_choice: bool = False) -> str:
    tail = "\n\nChoose the correct solution." if multiple_choice else ""
    return f"Solve for ${var}$: ${problem_latex}$" + tail


def equation_draft(
    *,
    problem: Pair,
    value: Number,
    steps: Sequence[Step],
    hints: Sequence[str],
    candidates: Candidates,
    var: str = "x",
    multiple_choice: bool = False,
    stem: str | None = None,
) -> Draft:
    """An item whose key is the single solution `var = value`."""
    q = Fraction(value)
    latex, plain = equation(var, q)
    top_up = solution_top_up(var, q) if multiple_choice else None
    return Draft(
        kind=CheckKind.EQUATION,
        item_type=ItemType.EQUATION,
        policy=AnswerPolicy.SOLUTION_SET,
        stem=stem or solve_stem(problem[0], var, multiple_choice=multiple_choice),
        problem=problem[1],
        answer=plain,
        answer_latex=latex,
        steps=tuple(steps),
        hints=tuple(hints),
        wrongs=select(q, candidates, top_up=top_up),
        multiple_choice=multiple_choice,
    )


def _decimal_pair(value: Number) -> Pair:
    return decimal(value), decimal(value)


def number_draft(
    *,
    stem: str,
    problem: str,
    value: Number,
    steps: Sequence[Step],
    hints: Sequence[str],
    candidates: Iterable[tuple[Number, str]],
    policy: AnswerPolicy = AnswerPolicy.EQUIVALENT,
    multiple_choice: bool = False,
    decimals: bool = False,
) -> Draft:
    """An item whose key is one exact rational number; `decimals` writes it as 0.75, not 3/4.

    `candidates` are (wrong value, misconception) pairs; with `decimals`, values without a
    terminating decimal form are left out.
    """
    q = Fraction(value)
    write = _decimal_pair if decimals else pair
    wrongs = [
        (Fraction(v), Wrong(write(v)[1], write(v)[0], tag))
        for v, tag in candidates
        if not decimals or terminates(Fraction(v))
    ]
    misses = [v for v in near_misses(q) if not decimals or terminates(v)]

    def top_up(index: int) -> tuple[Hashable, Wrong]:
        v = misses[index] if index < len(misses) else q + 3 + index
        return v, Wrong(write(v)[1], write(v)[0], ARITHMETIC_SLIP)

    return Draft(
        kind=CheckKind.VALUE,
        item_type=ItemType.NUMERIC,
        policy=policy,
        stem=stem,
        problem=problem,
        answer=write(q)[1],
        answer_latex=write(q)[0],
        steps=tuple(steps),
        hints=tuple(hints),
        wrongs=select(q, wrongs, top_up=top_up if multiple_choice else None),
        multiple_choice=multiple_choice,
    )
