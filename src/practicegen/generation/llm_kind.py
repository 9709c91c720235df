"""The kinds of question the language model writes: how each is asked for, read and verified.

`EquationKind` carries the problem in sympy syntax, so its key is solved again in the node's
sympy processes (`llm_check.verify_item`); the check's running time (`check_timeout`) and its
wait for a free process (`check_queue`) have separate deadlines, so a busy node is not taken for
a slow check. `ChoiceKind`, for subjects sympy cannot check, is held to self-consistency, which
catches a confused key but not a confidently wrong model: a second model may answer instead.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from practicegen.generation.llm_verify import (
    JsonCompleter,
    Reason,
    Verdict,
    self_consistency,
    strict_object,
    verify_within,
)
from practicegen.generation.procedural.profiles import PROFILES
from practicegen.grading.sympy_pool import SympyPool
from practicegen.items.fingerprint import normalise_text
from practicegen.items.schemas import Choice, ItemContent, ItemSource
from practicegen.ports import AnswerPolicy, ItemType

if TYPE_CHECKING:
    from practicegen.generation.llm import LlmBatch

PROMPT_VERSION = "llm-equation-v2"
CHOICE_PROMPT_VERSION = "llm-choice-v1"


class QuestionKind(ABC):
    """One kind of question: how it is asked for, read from the reply, and verified."""

    name: str
    item_type: ItemType
    prompt_version: str
    schema_name: str
    schema: dict[str, Any]
    system: str
    check: CheckModel | None = None  # answers this kind's checks in place of the writer

    def item(
        self, reply: dict[str, Any], *, subject: str, topic: str, skill: str, difficulty: float
    ) -> ItemContent:
        """The item the reply describes; raises pydantic's ValidationError if malformed."""
        fields = self.fields(reply)
        origin = {"generator": "llm", "prompt_version": self.prompt_version, "kind": self.name}
        fields["provenance"] = origin | fields.get("provenance", {})
        return ItemContent(
            subject=subject,
            topic=topic,
            skill=skill,
            type=self.item_type,
            difficulty=max(-6.0, min(6.0, difficulty)),
            source=ItemSource.LLM,
            **fields,
        )

    @abstractmethod
    def fields(self, reply: dict[str, Any]) -> dict[str, Any]:
        """The item's fields of this kind (stem, answer, hints...) as the reply gives them."""

    @abstractmethod
    async def verify(self, item: ItemContent, ask: JsonCompleter) -> Verdict:
        """Whether `item` may be shown; `ask` reaches `check`, or else the model that wrote it,
        and what it spends counts towards the item's batch."""

    @abstractmethod
    def example(self, item: ItemContent) -> dict[str, Any]:
        """A bank item as the model should see it among the examples."""


def prompt_messages(
    kind: QuestionKind,
    skill: str,
    topic: str,
    subject: str,
    difficulty: float,
    examples: Sequence[ItemContent],
) -> list[dict[str, str]]:
    """The request for one question: bank items as examples, the skill's profile if known."""
    words = "easy" if difficulty < -1 else "medium" if difficulty <= 1 else "hard"
    lines = [
        f"Subject: {subject}",
        f"Topic: {topic}",
        f"Skill: {skill}",
        f"Difficulty: {words} ({difficulty:+.1f} on a logit scale)",
        "Write one new question for this skill, different from the examples.",
    ]
    if (profile := PROFILES.get(skill)) is not None:
        lines.append(f"The skill's problems: {profile.describe()}.")
    if examples:
        shown = "\n".join(json.dumps(kind.example(e)) for e in examples)
        lines.append("Examples from the item bank:\n" + shown)
    return [
        {"role": "system", "content": kind.system},
        {"role": "user", "content": "\n".join(lines)},
    ]


CHECKS = [
    "unique_solution",
    "answer_matches",
    "steps_keep_solution_set",
    "distractors_differ",
    "fits_skill",
    "stem_is_problem",
]


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Distractor(_Reply):
    value: str = Field(min_length=1, max_length=200)
    misconception: str = Field(min_length=1, max_length=100)


class Draft(_Reply):
    """A question as the model writes it, before verification."""

    stem: str = Field(min_length=1, max_length=10_000)
    problem: str = Field(min_length=1, max_length=500)
    answer: str = Field(min_length=1, max_length=200)
    steps: list[str] = Field(min_length=1, max_length=20)
    distractors: list[Distractor] = Field(max_length=6)
    hints: list[str] = Field(min_length=1, max_length=10)


_TEXT = {"type": "string"}
_TEXTS = {"type": "array", "items": _TEXT}
_DISTRACTOR = strict_object({"value": _TEXT, "misconception": _TEXT})


@dataclass(kw_only=True, eq=False)
class EquationKind(QuestionKind):
    """Questions whose key sympy can check: one equation in one unknown."""

    verify_timeout_s: float
    pool: SympyPool
    check_queue_s: float = 10.0

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
        shown = {"stem": item.stem, "answer": item.answer, "hints": item.hints}
        drafted = ("problem", "steps", "distractors")
        return shown | {name: item.provenance[name] for name in drafted if name in item.provenance}


def _solution(steps: Sequence[str], answer: str) -> str:
    def shown(text: str) -> str:
        return re.sub(r"(\d)\s*\*\s*([a-z(])", r"\1\2", text).replace("*", r" \cdot ")

    lines = [f"{i}. ${shown(step)}$" for i, step in enumerate(steps, start=1)]
    return "\n".join(lines) + f"\n\n**Answer:** ${shown(answer)}$"


class CheckModel(Protocol):
    """A model, other than the one that wrote the question, that answers it to check the key."""

    model: str

    async def complete_json(
        self,
        messages: list[dict[str, str]],
        schema_name: str,
        schema: dict[str, Any],
        batch: LlmBatch | None = None,
    ) -> dict[str, Any] | None: ...


class ChoiceDraft(_Reply):
    stem: str = Field(min_length=1, max_length=10_000)
    choices: list[Choice] = Field(min_length=3, max_length=5)
    answer: str = Field(min_length=1, max_length=16)
    explanation: str = Field(min_length=1, max_length=5_000)
    hints: list[str] = Field(min_length=1, max_length=10)


_CHOICE = strict_object({"id": _TEXT, "text": _TEXT, "misconception": {"type": ["string", "null"]}})


class ChoiceKind(QuestionKind):
    """Multiple-choice questions, kept only when the model agrees with its own key."""

    name = "multiple_choice"
    item_type = ItemType.MULTIPLE_CHOICE
    prompt_version = CHOICE_PROMPT_VERSION
    schema_name = "choice_question"
    schema = strict_object(
        {
            "stem": _TEXT,
            "choices": {"type": "array", "items": _CHOICE},
            "answer": _TEXT,
            "explanation": _TEXT,
            "hints": {"type": "array", "items": _TEXT},
        }
    )
    system = """You write multiple-choice practice questions for students. Reply with JSON:
- "stem": the question in Markdown;
- "choices": 4 choices {"id": "A".."D", "text": ..., "misconception": the error that leads
  to a wrong choice, snake_case, or null for the correct one};
- "answer": the id of the one correct choice;
- "explanation": why it is correct;
- "hints": 1-2 hints that do not give the answer away."""

    def __init__(self, *, samples: int, check: CheckModel | None = None) -> None:
        self.samples = samples
        self.check = check

    def fields(self, reply: dict[str, Any]) -> dict[str, Any]:
        draft = ChoiceDraft.model_validate(reply)
        return {
            "stem": draft.stem,
            "answer": draft.answer.strip(),
            "answer_policy": AnswerPolicy.CHOICE,
            "choices": draft.choices,
            "hints": draft.hints[:3],
            "solution": draft.explanation,
        }

    async def verify(self, item: ItemContent, ask: JsonCompleter) -> Verdict:
        """`ask` reaches the `check` model if there is one, else the model that wrote `item`."""
        ids = [c.id.casefold() for c in item.choices]
        texts = [normalise_text(c.text) for c in item.choices]
        if len(set(ids)) != len(ids) or len(set(texts)) != len(texts):
            return Verdict(Reason.MALFORMED, "repeated choice ids or texts")
        if item.answer.casefold() not in ids:
            return Verdict(Reason.WRONG_ANSWER, f"the key {item.answer!r} is not a choice")
        result = await self_consistency(ask, item, samples=self.samples)
        votes = dict(result.votes)
        if not result.accepted:
            if self.check is not None and not votes:  # not one answer: no verdict on the key
                return Verdict(Reason.SERVER_ERROR, f"the check model {self.check.model} failed")
            if self.check is not None:
                detail = f"{self.check.model} answered {votes}, key {item.answer!r}"
                return Verdict(Reason.CHECK_MODEL_DISAGREES, detail)
            return Verdict(Reason.INCONSISTENT, f"key {item.answer!r}, answers {votes}")
        item.provenance["verification"] = {
            "ok": True,
            "method": "self_consistency",
            "checks": ["self_consistency"] + (["check_model"] if self.check else []),
            "check_model": self.check.model if self.check else item.provenance.get("model"),
            "votes": votes,
            "samples": result.samples,
        }
        return Verdict(None)

    def example(self, item: ItemContent) -> dict[str, Any]:
        return {
            "stem": item.stem,
            "choices": [c.model_dump() for c in item.choices],
            "answer": item.answer,
            "hints": item.hints,
        }
