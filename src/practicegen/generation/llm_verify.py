"""Deciding whether a question written by a language model may be shown to a student.

A model's key is never trusted. An equation item is checked by `llm_check` in a sympy process,
within a deadline of its own, each failure with a stable reason code. A multiple-choice item is
accepted when most of the model's fresh answers pick its key.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import Any

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


class _CheckDeadline(BaseException):
    """A check's own deadline passed (a BaseException, so sympy's `except Exception` cannot
    swallow it)."""


# A signal handler's exception raised inside a finalizer or a weakref callback is printed and
# dropped, and the check would run on: the alarm repeats until one lands where it propagates.
_ALARM_REPEAT_S = 0.05


def verify_within(item: ItemContent, deadline_s: float) -> Verdict:
    """`verify_item` stopped after `deadline_s` of its own running (a SIGALRM timer: a sympy
    process's main thread runs it), so a caller waiting longer knows it queued, not ran long."""
    # sympy work: imported in the pool process (its fork server preloads it), never on the loop
    from practicegen.generation.llm_check import verify_item

    checking = True  # the alarm raises only while the check runs, never into the cleanup after

    def deadline_passed(_signum: int, _frame: object) -> None:
        if checking:
            raise _CheckDeadline

    previous = signal.signal(signal.SIGALRM, deadline_passed)
    signal.setitimer(signal.ITIMER_REAL, deadline_s, _ALARM_REPEAT_S)
    try:
        verdict = verify_item(item)
    except _CheckDeadline:
        checking = False
        verdict = Verdict(Reason.CHECK_TIMEOUT, f"the check ran past {deadline_s:g} s")
    finally:
        checking = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return verdict


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


async def self_consistency(
    completer: JsonCompleter, item: ItemContent, *, samples: int = 5
) -> Consistency:
    """Accept a multiple-choice item only if most of `samples` fresh answers pick its key."""
    if samples < 1:
        raise ValueError("samples must be at least 1")
    if item.type is not ItemType.MULTIPLE_CHOICE:
        raise ValueError("self-consistency is for multiple-choice items")
    choices = "\n".join(f"({c.id}) {c.text}" for c in item.choices)
    question = f"Subject: {item.subject}\nQuestion: {item.stem}\nChoices:\n{choices}"
    messages = [
        {"role": "system", "content": _ANSWER_SYSTEM},
        {"role": "user", "content": question},
    ]
    ask = partial(completer, messages, CHOICE_SCHEMA_NAME, CHOICE_SCHEMA)
    replies = await asyncio.gather(*(ask() for _ in range(samples)))
    picks = (str(r.get("choice", "")) for r in replies if r is not None)
    votes = Counter(pick.strip().strip("().: ").casefold() for pick in picks)
    return Consistency(votes[item.answer.casefold()] * 2 > samples, votes, samples)
