"""Deciding whether a question written by a language model may be shown to a student.

A model's key is never trusted. An equation's `problem` is solved again through the safe parser
`procedural.mathparse` (model output is never evaluated as Python) and the key, steps,
distractors, skill profile and stem are held to it, each failure with a stable reason code.
A multiple-choice item is accepted when most of the model's fresh answers pick its key.
"""

from __future__ import annotations

import asyncio
import re
import signal
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import Any

import sympy

from practicegen.generation.procedural import mathparse as mp
from practicegen.generation.procedural.checks import check_item
from practicegen.generation.procedural.profiles import PROFILES
from practicegen.generation.stem import stem_mismatch
from practicegen.items.schemas import ItemContent
from practicegen.ports import ItemType


class Reason(StrEnum):
    """Why a generated question was not accepted (stable; reported in batch counts)."""

    MALFORMED = "malformed"  # not JSON, wrong shape, or math text the safe parser refuses
    WRONG_ANSWER = "wrong_answer"  # the claimed answer is not the problem's solution
    STEP_BREAKS_SOLUTION_SET = "step_breaks_solution_set"
    DISTRACTOR_EQUALS_KEY = "distractor_equals_key"
    NOT_UNIQUE = "not_unique"  # no solution, several, or every number
    FAILED_ITEM_CHECK = "failed_item_check"  # e.g. the first hint gives the answer away
    STEM_MISMATCH = "stem_mismatch"  # the stem's math is not the verified problem
    OFF_SKILL = "off_skill"  # the problem is not of the skill's profile
    DUPLICATE = "duplicate"  # the same problem as another question in the batch
    INCONSISTENT = "inconsistent"  # self-consistency: the model does not agree with its key
    MODEL_TIMEOUT = "model_timeout"  # the model did not answer within its timeout
    CHECK_TIMEOUT = "check_timeout"  # the sympy check ran past its deadline
    CHECK_QUEUE = "check_queue"  # the check waited too long for a free sympy process
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    CHECK_MODEL_DISAGREES = "check_model_disagrees"  # a second model does not pick the key
    # the tenant requires a second model and the node has none: self-consistency is not enough
    CHECK_MODEL_REQUIRED = "check_model_required"


@dataclass(frozen=True, slots=True)
class Verdict:
    reason: Reason | None  # None: accepted
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.reason is None


ACCEPTED = Verdict(None)


def verify_equation(
    problem: str, answer: str, steps: Sequence[str], distractors: Sequence[str]
) -> Verdict:
    """Solve `problem` independently and hold the claimed answer, steps and distractors to it."""
    try:
        names = set(re.findall(r"\b[a-z]\b", problem)) & set(mp.VARIABLES)
        if len(names) != 1:
            raise mp.Unreadable(f"expected one unknown in {problem!r}, found {sorted(names)}")
        var = mp.VARIABLES[names.pop()]
        truth = mp.solve_equation(problem, var)
        if not (isinstance(truth, sympy.FiniteSet) and len(truth) == 1):
            return Verdict(Reason.NOT_UNIQUE, f"{problem!r} has solution set {truth}")
        if mp.solution_set(answer, var) != truth:
            return Verdict(Reason.WRONG_ANSWER, f"{answer!r} does not solve {problem!r}")
        for index, step in enumerate(steps, start=1):
            if mp.solve_equation(step, var) != truth:
                return Verdict(Reason.STEP_BREAKS_SOLUTION_SET, f"step {index} {step!r}")
        for value in distractors:
            if mp.solution_set(value, var) == truth:
                return Verdict(Reason.DISTRACTOR_EQUALS_KEY, f"distractor {value!r}")
    except mp.MATH_FAILURES as exc:
        return Verdict(Reason.MALFORMED, f"unreadable: {exc}")
    return ACCEPTED


def verify_item(item: ItemContent) -> Verdict:
    """The full check of an equation item built from a model's draft (CPU-bound: sympy)."""
    prov = item.provenance
    distractors = [str(d["value"]) for d in prov.get("distractors", [])]
    steps = [str(s) for s in prov.get("steps", [])]
    problem, kind = str(prov.get("problem", "")), str(prov.get("kind", "equation"))
    verdict = verify_equation(problem, item.answer, steps, distractors)
    if not verdict.ok:
        return verdict
    profile = PROFILES.get(item.skill)  # a skill only the bank knows has no declared profile
    misfit = profile.misfit(kind, problem) if profile else None
    if misfit is not None:
        return Verdict(Reason.OFF_SKILL, f"{item.skill}: {misfit}")
    mismatch = stem_mismatch(item.stem, problem, kind)
    if mismatch is not None:
        return Verdict(Reason.STEM_MISMATCH, mismatch)
    report = check_item(item)
    if not report.ok:
        return Verdict(Reason.FAILED_ITEM_CHECK, "; ".join(report.problems))
    return ACCEPTED


class _CheckDeadline(BaseException):
    """A check's own deadline passed (a BaseException, so sympy's `except Exception` cannot
    swallow it)."""


def _deadline_passed(_signum: int, _frame: object) -> None:
    raise _CheckDeadline


def verify_within(item: ItemContent, deadline_s: float) -> Verdict:
    """`verify_item` stopped after `deadline_s` of its own running (a SIGALRM timer: a sympy
    process's main thread runs it), so a caller waiting longer knows it queued, not ran long."""
    previous = signal.signal(signal.SIGALRM, _deadline_passed)
    signal.setitimer(signal.ITIMER_REAL, deadline_s)
    try:
        return verify_item(item)
    except _CheckDeadline:
        return Verdict(Reason.CHECK_TIMEOUT, f"the check ran past {deadline_s:g} s")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# One structured request (messages, schema name, schema): the JSON object, or None if it failed.
JsonCompleter = Callable[
    [list[dict[str, str]], str, dict[str, Any]], Awaitable[dict[str, Any] | None]
]


def strict_object(properties: dict[str, Any]) -> dict[str, Any]:
    """The JSON schema of an object with exactly `properties`, every one required."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


CHOICE_SCHEMA = strict_object({"choice": {"type": "string"}})
CHOICE_SCHEMA_NAME = "answer_check"
_ANSWER_SYSTEM = (
    'Answer the multiple-choice question. Reply with JSON {"choice": "<id>"} naming the one '
    "correct choice id."
)


@dataclass(frozen=True, slots=True)
class Consistency:
    accepted: bool
    votes: Counter[str]  # choice id (casefolded) -> count
    samples: int


class SelfConsistency:
    """Accept a multiple-choice item only if most of `samples` fresh answers pick its key."""

    def __init__(self, completer: JsonCompleter, *, samples: int = 5) -> None:
        if samples < 1:
            raise ValueError("samples must be at least 1")
        self.completer = completer
        self.samples = samples

    async def check(self, item: ItemContent) -> Consistency:
        if item.type is not ItemType.MULTIPLE_CHOICE:
            raise ValueError("self-consistency is for multiple-choice items")
        choices = "\n".join(f"({c.id}) {c.text}" for c in item.choices)
        question = f"Subject: {item.subject}\nQuestion: {item.stem}\nChoices:\n{choices}"
        messages = [
            {"role": "system", "content": _ANSWER_SYSTEM},
            {"role": "user", "content": question},
        ]
        ask = partial(self.completer, messages, CHOICE_SCHEMA_NAME, CHOICE_SCHEMA)
        replies = await asyncio.gather(*(ask() for _ in range(self.samples)))
        picks = (str(r.get("choice", "")) for r in replies if r is not None)
        votes = Counter(pick.strip().strip("().: ").casefold() for pick in picks)
        agreeing = votes[item.answer.casefold()]
        return Consistency(agreeing * 2 > self.samples, votes, self.samples)
