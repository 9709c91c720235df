"""Shared shapes of drafts: worked steps and the common "solve for x" / "find the number" items."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from fractions import Fraction
from functools import partial
from random import Random

from practicegen.generation.procedural import render
from practicegen.generation.procedural.base import CheckKind, Draft, Step, Wrong
from practicegen.generation.procedural.distractors import ARITHMETIC_SLIP, near_misses, select
from practicegen.ports import AnswerPolicy, ItemType

Candidate = tuple[Hashable, Wrong]
Shape = tuple[CheckKind, ItemType, AnswerPolicy]  # how a draft is checked, typed and graded


def eq_step(text: str, lhs: render.Pair, rhs: render.Pair) -> Step:
    """A step whose result is the equation lhs = rhs."""
    return Step(text, *render.equals(lhs, rhs))


def solved(text: str, var: str, value: render.Number) -> Step:
    return Step(text, *render.equation(var, value))


def move(amount: render.Number, mono: str = "") -> str:
    """The step that cancels the term amount*mono: 'Subtract $3$ from both sides'."""
    term = render.poly([(abs(Fraction(amount)), mono)])[0]
    return f"Subtract ${term}$ from both sides" if amount > 0 else f"Add ${term}$ to both sides"


def isolate(k: int, const: render.Number, rhs: render.Number, x: render.Number) -> list[Step]:
    """From k*x + const = rhs to the solution x, one inverse operation at a time."""
    steps = (
        [eq_step(move(const), render.linear(k, 0), render.pair(rhs - const))] if const != 0 else []
    )
    if k != 1:
        steps.append(solved(f"Divide both sides by ${k}$", "x", x))
    return steps


def solution(rng: Random, level: int, k: int = 1, top: int = 0) -> Fraction:
    """A solution x of k*x = c: 1 to 10 at level 1, signed above it; a fraction over |k| with
    a numerator up to `top` instead when `top` is given and |k| > 1."""
    if top and abs(k) > 1:
        return Fraction(render.signed(rng, 1, top), abs(k))
    return Fraction(render.pick(rng, 1, 10) if level == 1 else render.signed(rng, 1, 10))


def solve_stem(problem_latex: str) -> str:
    return f"Solve for $x$: ${problem_latex}$"


def draft(
    shape: Shape,
    *,
    stem: str,
    problem: str,
    answer: render.Pair,
    key: Hashable,
    steps: Iterable[Step],
    hints: Iterable[str],
    candidates: Iterable[Candidate],
    top_up: Callable[[int], Candidate] | None = None,
    multiple_choice: bool = False,
    tolerance: float | None = None,
) -> Draft:
    """A draft whose key is `answer`, canonically `key`; its wrong answers are from `select`."""
    return Draft(
        kind=shape[0],
        item_type=shape[1],
        policy=shape[2],
        stem=stem,
        problem=problem,
        answer=answer[1],
        answer_latex=answer[0],
        steps=tuple(steps),
        hints=tuple(hints),
        wrongs=select(key, candidates, top_up=top_up),
        multiple_choice=multiple_choice,
        tolerance=tolerance,
    )


def number_draft(
    *,
    stem: str,
    problem: str,
    value: render.Number,
    steps: Iterable[Step],
    hints: Iterable[str],
    candidates: Iterable[tuple[render.Number, str]],
    policy: AnswerPolicy = AnswerPolicy.EQUIVALENT,
    multiple_choice: bool = False,
    decimals: bool = False,
    finish: str | None = None,
    kind: CheckKind = CheckKind.VALUE,
    solve_for: str | None = None,
) -> Draft:
    """An item whose key is one exact rational number; multiple choice is topped up with near
    misses. `decimals` writes 0.75, not 3/4 (wrong values with no such form are left out),
    `solve_for` the solution `x = 3/4`; `finish` names a last step that shows the answer."""
    q = Fraction(value)
    write = (lambda v: (render.decimal(v), render.decimal(v))) if decimals else render.pair
    item_type = ItemType.NUMERIC
    if solve_for is not None:
        write = partial(render.equation, solve_for)
        kind, item_type, policy = CheckKind.EQUATION, ItemType.EQUATION, AnswerPolicy.SOLUTION_SET
    if finish is not None:
        steps = [*steps, Step(finish, *write(q))]

    def wrong(v: render.Number, tag: str) -> Candidate:
        return Fraction(v), Wrong.of(write(v), tag)

    misses = [v for v in near_misses(q) if not decimals or render.terminates(v)]

    def top_up(index: int) -> Candidate:
        return wrong(misses[index] if index < len(misses) else q + 3 + index, ARITHMETIC_SLIP)

    return draft(
        (kind, item_type, policy),
        stem=stem,
        problem=problem,
        answer=write(q),
        key=q,
        steps=steps,
        hints=hints,
        candidates=[wrong(v, t) for v, t in candidates if not decimals or render.terminates(v)],
        top_up=top_up if multiple_choice else None,
        multiple_choice=multiple_choice,
    )


def equation_draft(
    *,
    problem: render.Pair,
    value: render.Number,
    steps: Iterable[Step],
    hints: Iterable[str],
    candidates: Iterable[tuple[render.Number, str]],
    stem: str | None = None,
) -> Draft:
    """An item whose key is the single solution `x = value`, shown as "Solve for x"."""
    return number_draft(
        stem=stem or solve_stem(problem[0]),
        problem=problem[1],
        value=value,
        steps=steps,
        hints=hints,
        candidates=candidates,
        solve_for="x",
    )
