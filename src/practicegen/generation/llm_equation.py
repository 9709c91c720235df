"""Equation questions from a language model: how they are asked for, read, and checked by sympy.

The model gives the problem in sympy syntax beside its Markdown stem, so the key can be checked
by solving the problem again (`llm_verify.verify_item`, in the node's sympy processes), with
the steps, the distractors, the skill's profile and the stem held to it. A check has two
deadlines, its own running time (`check_timeout`) and the wait for a free sympy process
(`check_queue`), so a busy node is not mistaken for a slow check, nor either for a slow model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from practicegen.generation.llm_kind import QuestionKind
from practicegen.generation.llm_verify import (
    JsonCompleter,
    Reason,
    Verdict,
    strict_object,
    verify_within,
)
from practicegen.grading.sympy_pool import SympyPool
from practicegen.items.schemas import ItemContent
from practicegen.ports import AnswerPolicy, ItemType

PROMPT_VERSION = "llm-equation-v2"
CHECKS = [
    "unique_solution",
    "answer_matches",
    "steps_keep_solution_set",
    "distractors_differ",
    "fits_skill",
    "stem_is_problem",
]


class Distractor(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: str = Field(min_length=1, max_length=200)
    misconception: str = Field(min_length=1, max_length=100)


class Draft(BaseModel):
    """A question as the model writes it, before verification."""

    model_config = ConfigDict(extra="forbid")

    stem: str = Field(min_length=1, max_length=10_000)
    problem: str = Field(min_length=1, max_length=500)
    answer: str = Field(min_length=1, max_length=200)
    steps: list[str] = Field(min_length=1, max_length=20)
    distractors: list[Distractor] = Field(max_length=6)
    hints: list[str] = Field(min_length=1, max_length=10)


_TEXT = {"type": "string"}
_TEXTS = {"type": "array", "items": _TEXT}
_DISTRACTOR = strict_object({"value": _TEXT, "misconception": _TEXT})


class EquationKind(QuestionKind):
    """Questions whose key sympy can check: one equation in one unknown."""

    name = "equation"
    item_type = ItemType.EQUATION
    prompt_version = PROMPT_VERSION
    schema_name = "practice_question"
    schema = strict_object(
        {
            "stem": _TEXT,
            "problem": _TEXT,
            "answer": _TEXT,
            "steps": _TEXTS,
            "distractors": {"type": "array", "items": _DISTRACTOR},
            "hints": _TEXTS,
        }
    )
    system = """You write math practice questions for students. Reply with one JSON object:
- "stem": the question in Markdown, math in $LaTeX$; its equation must be exactly "problem"
  (same numbers, signs, operations and unknown), and it shows no number the problem lacks;
- "problem": the equation in sympy syntax, e.g. "3*x + 4 = 19" (use * for multiplication);
- "answer": its one solution, e.g. "x = 5";
- "steps": the worked solution as sympy-syntax equations, each with the same solution;
- "distractors": 2-3 wrong answers {"value": "x = 7", "misconception": "snake_case_tag"};
- "hints": 1-3 hints; the first must not give the answer away."""

    def __init__(
        self, *, verify_timeout_s: float, pool: SympyPool, check_queue_s: float = 10.0
    ) -> None:
        self.verify_timeout_s = verify_timeout_s
        self.check_queue_s = check_queue_s
        self.pool = pool

    def fields(self, reply: dict[str, Any]) -> dict[str, Any]:
        draft = Draft.model_validate(reply)
        steps = [s.strip() for s in draft.steps]
        answer = draft.answer.strip()
        return {
            "stem": draft.stem,
            "answer": answer,
            "answer_policy": AnswerPolicy.SOLUTION_SET,
            "hints": draft.hints[:3],
            "solution": _solution(steps, answer),
            "provenance": {
                "problem": draft.problem.strip(),
                "steps": steps,
                "key": answer,
                "distractors": [d.model_dump() for d in draft.distractors],
            },
        }

    async def verify(self, item: ItemContent, _ask: JsonCompleter) -> Verdict:
        # The check stops itself after verify_timeout_s of running; no answer by the wider
        # deadline means it waited for a process longer than check_queue_s.
        wait = self.verify_timeout_s + self.check_queue_s
        try:
            verdict = await self.pool.run(
                verify_within, item, self.verify_timeout_s, timeout_s=wait
            )
        except TimeoutError:
            return Verdict(Reason.CHECK_QUEUE, f"no sympy process free within {wait:g} s")
        if verdict.ok:
            item.provenance["verification"] = {"ok": True, "method": "sympy", "checks": CHECKS}
        return verdict

    def example(self, item: ItemContent) -> dict[str, Any]:
        prov = item.provenance
        shown: dict[str, Any] = {"stem": item.stem, "answer": item.answer, "hints": item.hints}
        for name in ("problem", "steps", "distractors"):
            if name in prov:
                shown[name] = prov[name]
        return shown


def _solution(steps: Sequence[str], answer: str) -> str:
    def shown(text: str) -> str:
        return re.sub(r"(\d)\s*\*\s*([a-z(])", r"\1\2", text).replace("*", r" \cdot ")

    lines = [f"{i}. ${shown(step)}$" for i, step in enumerate(steps, start=1)]
    return "\n".join(lines) + f"\n\n**Answer:** ${shown(answer)}$"
