"""An independent check of a generated item: is the key right, and is the worked solution sound?

The problem is re-solved with sympy and the key, every step and every wrong answer held to it.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import sympy

from practicegen.generation.procedural import mathparse as mp
from practicegen.items.schemas import ItemContent
from practicegen.ports import AnswerPolicy, ItemType

Meaning = Any  # a sympy set, expression or number
Same = Callable[[Meaning, Meaning], bool]
Read = Callable[[str], Meaning]


@dataclass(frozen=True, slots=True)
class CheckReport:
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True)
class _Reader:
    """How one kind of problem is solved, how steps and answers are read, when two agree."""

    solve: Read  # the problem and each step
    answer: Read  # the key and each wrong answer
    same: Same
    # what the answer must equal, from the problem's meaning (None: the meaning itself)
    target: Callable[[Meaning], Meaning] | None = None


def _variable(problem: str) -> Any:
    names = sorted(set(mp.VARIABLES) & set(re.findall(r"\b[a-z]\b", problem)))
    return mp.VARIABLES[names[0]] if len(names) == 1 else mp.VARIABLES["x"]


def same_expression(a: Meaning, b: Meaning) -> bool:
    """Exact for rational numbers and rational functions; 60 digits for other numbers."""
    difference = sympy.expand(a - b)
    if difference == 0 or difference.is_Rational:
        return bool(difference == 0)
    if difference.is_number:
        return bool(abs(sympy.N(difference, 60)) < sympy.Float("1e-50"))
    if difference.is_rational_function():
        # Nonzero at one rational point is an exact proof of "different", and cheap.
        point = {
            s: sympy.Rational(7 + i, 13 + 2 * i)
            for i, s in enumerate(sorted(difference.free_symbols, key=str))
        }
        if difference.subs(point) != 0:
            return False
        return bool(sympy.cancel(difference) == 0)
    return bool(sympy.simplify(difference) == 0)


def _within(tolerance: float, a: Meaning, b: Meaning) -> bool:
    return bool(abs(sympy.N(a - b, 30)) <= tolerance + 1e-9)


def _reader(kind: str, problem: str, tolerance: float | None) -> _Reader:
    var = _variable(problem)
    xy = (mp.VARIABLES["x"], mp.VARIABLES["y"])
    inequality = partial(mp.solve_inequality, var=var)
    solution_sets: dict[str, tuple[Read, Read]] = {  # (solve the problem, read an answer)
        "equation": (lambda t: mp.solve_equation(t, var), lambda t: mp.solution_set(t, var)),
        "inequality": (inequality, inequality),
        "system": (partial(mp.solve_system, variables=xy), partial(mp.system_answer, variables=xy)),
    }
    if kind in solution_sets:
        return _Reader(*solution_sets[kind], operator.eq)
    if kind == "expression":
        return _Reader(mp.expr, mp.expr, same_expression)
    if kind == "line_slope":
        return _Reader(mp.line_in_y, mp.expr, same_expression, lambda line: sympy.diff(line, xy[0]))
    if kind == "value":
        same = same_expression if tolerance is None else partial(_within, tolerance)
        return _Reader(mp.expr, mp.expr, same)
    raise mp.Unreadable(f"unknown problem kind {kind!r}")


def check_item(item: ItemContent) -> CheckReport:
    """Every problem found with the item; an empty report means it passed."""
    prov = item.provenance
    missing = [k for k in ("kind", "problem", "steps", "key") if k not in prov]
    if missing:
        return CheckReport((f"provenance lacks {', '.join(missing)}",))
    tolerance = item.tolerance if item.tolerance is not None else prov.get("tolerance")
    try:
        reader = _reader(str(prov["kind"]), str(prov["problem"]), tolerance)
        problems = _check(item, reader)
    except mp.MATH_FAILURES as exc:
        problems = [f"unreadable: {exc}"]
    return CheckReport(tuple(problems))


def _check(item: ItemContent, reader: _Reader) -> list[str]:
    prov = item.provenance
    key = str(prov["key"])
    truth = reader.solve(str(prov["problem"]))
    target = truth if reader.target is None else reader.target(truth)
    problems: list[str] = []
    if not reader.same(reader.answer(key), target):
        problems.append(f"key {key!r} is not the answer to {prov['problem']!r}")
    for index, step in enumerate(prov["steps"], start=1):
        if not reader.same(reader.solve(str(step)), truth):
            problems.append(f"step {index} {step!r} changes the solution")
    problems += _check_wrongs(item, reader, target)
    problems += _check_form(item, key, target)
    problems += _check_text(item, key)
    return problems


def _check_wrongs(item: ItemContent, reader: _Reader, target: Meaning) -> list[str]:
    prov = item.provenance
    problems: list[str] = []
    wrongs = [str(w["value"]) for w in prov.get("distractors", [])]
    if item.type is ItemType.MULTIPLE_CHOICE:
        values: dict[str, str] = prov.get("choice_values", {})
        if values.get(item.answer) != prov["key"]:
            problems.append("the correct choice does not hold the key")
        if sorted(values) != sorted(c.id for c in item.choices):
            problems.append("choice_values do not match the choices")
        for choice in item.choices:
            tagged = choice.misconception is not None
            if tagged == (choice.id == item.answer):
                problems.append(f"choice {choice.id}: only distractors carry a misconception")
        wrongs += [v for cid, v in values.items() if cid != item.answer]
        if len({c.text for c in item.choices}) != len(item.choices):
            problems.append("two choices read the same")
    meanings: list[Meaning] = []
    for wrong in wrongs:
        meaning = reader.answer(wrong)
        if reader.same(meaning, target):
            problems.append(f"wrong answer {wrong!r} equals the key")
        meanings.append(meaning)
    if item.type is ItemType.MULTIPLE_CHOICE:
        distinct = meanings[len(prov.get("distractors", [])) :]
        for i, a in enumerate(distinct):
            if any(reader.same(a, b) for b in distinct[i + 1 :]):
                problems.append("two distractors are the same answer")
    return problems


def _check_form(item: ItemContent, key: str, target: Meaning) -> list[str]:
    """An exact-form key must itself be in simplest form."""
    if item.answer_policy is not AnswerPolicy.EXACT_FORM:
        return []
    if item.type is ItemType.NUMERIC:
        canonical = str(mp.expr(key)).replace(" ", "")
        return [] if canonical == key.replace(" ", "") else [f"key {key!r} is not simplest"]
    written = sympy.Add.make_args(mp.expr(key, evaluate=False))
    if len(written) > len(sympy.Add.make_args(sympy.expand(target))):
        return [f"key {key!r} has uncombined terms"]
    return []


def _check_text(item: ItemContent, key: str) -> list[str]:
    problems: list[str] = []
    hidden = mp.numbers_in(str(item.provenance["problem"])) - mp.numbers_in(item.stem)
    if hidden:
        problems.append(f"the stem does not show {sorted(hidden)} from the problem")
    if not 1 <= len(item.hints) <= 3:
        problems.append("an item has 1 to 3 hints")
    stated = re.escape(key) if "=" in key else rf"=\s*{re.escape(key)}"
    if item.hints and re.search(stated + r"(?![\d/]|\.\d)", item.hints[0]):
        problems.append("the first hint gives the answer away")
    if not item.provenance["steps"] or not item.solution:
        problems.append("an item needs a worked solution")
    return problems
