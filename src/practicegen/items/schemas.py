"""The item: what a student is asked, how an answer is judged, and where the item came from.
Difficulty is on the learner model's logit scale: 0 is answered right half the time by an
average student; -2 is easy, +2 is hard.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from practicegen.ports import AnswerPolicy, ItemType


class ItemSource(StrEnum):
    BANK = "bank"  # written by people and imported or created through the API
    DEMO = "demo"  # the demo bank that ships with the package
    PROCEDURAL = "procedural"  # built from its solution by a sympy generator
    LLM = "llm"  # written by a language model and verified before use


class ItemStatus(StrEnum):
    ACTIVE = "active"  # may be selected
    RETIRED = "retired"  # kept for history and grading, never selected again


class Choice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=16)
    text: str = Field(min_length=1, max_length=2000)
    misconception: str | None = Field(
        default=None, max_length=100, description="For a distractor: the error that leads to it."
    )


class ItemContent(BaseModel):
    """Everything about an item that its author decides."""

    model_config = ConfigDict(extra="forbid")

    subject: str = Field(min_length=1, max_length=100)
    topic: str = Field(min_length=1, max_length=100)
    skill: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9_.-]+$")
    type: ItemType
    stem: str = Field(min_length=1, max_length=10_000, description="Markdown with $LaTeX$.")
    answer: str = Field(min_length=1, max_length=1000)
    answer_policy: AnswerPolicy
    tolerance: float | None = Field(default=None, ge=0, strict=True)
    choices: list[Choice] = Field(default_factory=list, max_length=10)
    hints: list[str] = Field(default_factory=list, max_length=10)
    solution: str | None = Field(default=None, max_length=20_000)
    difficulty: float = Field(default=0.0, ge=-6, le=6, strict=True)
    source: ItemSource = ItemSource.BANK
    provenance: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> ItemContent:
        if self.type is ItemType.MULTIPLE_CHOICE:
            ids = [c.id for c in self.choices]
            if len(ids) < 2 or len(set(ids)) != len(ids):
                raise ValueError("a multiple_choice item needs at least 2 choices with unique ids")
            if self.answer not in ids:
                raise ValueError("a multiple_choice item's answer must be one of its choice ids")
            if self.answer_policy is not AnswerPolicy.CHOICE:
                raise ValueError("a multiple_choice item uses the 'choice' answer policy")
        elif self.answer_policy is AnswerPolicy.CHOICE:
            raise ValueError("the 'choice' answer policy is only for multiple_choice items")
        if self.answer_policy is AnswerPolicy.NUMERIC_TOLERANCE and self.tolerance is None:
            raise ValueError("the numeric_tolerance policy needs a tolerance")
        return self


class ItemCreate(ItemContent):
    pass


class ItemUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stem: str | None = Field(default=None, min_length=1, max_length=10_000)
    hints: list[str] | None = Field(default=None, max_length=10)
    solution: str | None = Field(default=None, max_length=20_000)
    difficulty: float | None = Field(default=None, ge=-6, le=6, strict=True)
    topic: str | None = Field(default=None, min_length=1, max_length=100)
    status: ItemStatus | None = None


class ItemRead(ItemContent):
    model_config = ConfigDict(from_attributes=True)

    item_id: uuid.UUID = Field(validation_alias=AliasChoices("item_id", "id"))
    status: ItemStatus
    created_at: datetime
    updated_at: datetime
