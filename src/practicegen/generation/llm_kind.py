"""A kind of question the language model writes, and the prompt that asks for one.

A `QuestionKind` (`llm_equation`, `llm_choice`) says how a question is asked for, read from the
reply and verified; `prompt_messages` asks for one question of a skill at a difficulty, with
bank items of the skill as examples and the procedural catalog's profile of the skill if any.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from practicegen.generation.llm_verify import JsonCompleter, Verdict
from practicegen.generation.procedural.catalog import PROFILES
from practicegen.items.schemas import ItemContent, ItemSource
from practicegen.ports import ItemType


class QuestionKind(ABC):
    """One kind of question: how it is asked for, read from the reply, and verified."""

    name: str
    item_type: ItemType
    prompt_version: str
    schema_name: str
    schema: dict[str, Any]
    system: str

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
        """Whether `item` may be shown; `ask` reaches the model that wrote it."""

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
    lines = [
        f"Subject: {subject}",
        f"Topic: {topic}",
        f"Skill: {skill}",
        f"Difficulty: {_difficulty_words(difficulty)} ({difficulty:+.1f} on a logit scale)",
        "Write one new question for this skill, different from the examples.",
    ]
    profile = PROFILES.get(skill)
    if profile is not None:
        lines.append(f"The skill's problems: {profile.describe()}.")
    if examples:
        shown = "\n".join(json.dumps(kind.example(e)) for e in examples)
        lines.append("Examples from the item bank:\n" + shown)
    return [
        {"role": "system", "content": kind.system},
        {"role": "user", "content": "\n".join(lines)},
    ]


def _difficulty_words(difficulty: float) -> str:
    if difficulty < -1:
        return "easy"
    return "medium" if difficulty <= 1 else "hard"
