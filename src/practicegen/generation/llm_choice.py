"""Multiple-choice questions from a language model, for subjects sympy cannot check.

A Biology question has no equation to solve again, so after its structure (choice ids unique,
the key among them, three to five choices, no two alike) its key is checked by self-consistency
(`llm_verify.SelfConsistency`): the model answers its own question several times, without
seeing the key, and a strict majority must pick the key. That catches a confused key, not a
confidently wrong model, so a second model can be named to answer instead (`check`); an item it
does not agree with is rejected as `check_model_disagrees`. An accepted item's
`provenance.verification` has method "self_consistency" and names the model that answered.
"""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from practicegen.generation.llm_kind import QuestionKind
from practicegen.generation.llm_verify import (
    JsonCompleter,
    Reason,
    SelfConsistency,
    Verdict,
    strict_object,
)
from practicegen.items.fingerprint import normalise_text
from practicegen.items.schemas import Choice, ItemContent
from practicegen.ports import AnswerPolicy, ItemType

PROMPT_VERSION = "llm-choice-v1"


class CheckModel(JsonCompleter, Protocol):
    """A model, other than the one that wrote the question, that answers it to check the key."""

    model: str


class ChoiceDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stem: str = Field(min_length=1, max_length=10_000)
    choices: list[Choice] = Field(min_length=3, max_length=5)
    answer: str = Field(min_length=1, max_length=16)
    explanation: str = Field(min_length=1, max_length=5_000)
    hints: list[str] = Field(min_length=1, max_length=10)


_TEXT = {"type": "string"}
_CHOICE = strict_object({"id": _TEXT, "text": _TEXT, "misconception": {"type": ["string", "null"]}})


class ChoiceKind(QuestionKind):
    """Multiple-choice questions, kept only when the model agrees with its own key."""

    name = "multiple_choice"
    item_type = ItemType.MULTIPLE_CHOICE
    prompt_version = PROMPT_VERSION
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
        """`ask` reaches the model that wrote `item`; with a `check` model, that one answers."""
        ids = [c.id.casefold() for c in item.choices]
        texts = [normalise_text(c.text) for c in item.choices]
        if len(set(ids)) != len(ids) or len(set(texts)) != len(texts):
            return Verdict(Reason.MALFORMED, "repeated choice ids or texts")
        if item.answer.casefold() not in ids:
            return Verdict(Reason.WRONG_ANSWER, f"the key {item.answer!r} is not a choice")
        result = await SelfConsistency(self.check or ask, samples=self.samples).check(item)
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
