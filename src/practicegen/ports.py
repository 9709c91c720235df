"""The shapes shared by grading, the item bank, generation and practice, so imports run one way:
`grading <- items <- generation <- practice`, each importing only those to its left and this.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # grading's processes import these shapes, and never a database
    from sqlalchemy.ext.asyncio import AsyncSession

    from practicegen.db.models import Item


class ItemType(StrEnum):
    NUMERIC = "numeric"  # a single number, e.g. "3/4" or "0.75"
    EXPRESSION = "expression"  # an algebraic expression, e.g. "2*x + 3"
    EQUATION = "equation"  # solve for a variable; the answer is a solution set, e.g. "x = 4"
    MULTIPLE_CHOICE = "multiple_choice"  # pick one of `choices`; the answer is a choice id


class AnswerPolicy(StrEnum):
    EQUIVALENT = "equivalent"  # any mathematically equal expression is right
    SOLUTION_SET = "solution_set"  # "x = 4", "4" and "{4}" all name the same solution set
    NUMERIC_TOLERANCE = "numeric_tolerance"  # |answer - key| <= tolerance
    EXACT_FORM = "exact_form"  # equal AND in the key's form (simplified, lowest terms)
    CHOICE = "choice"  # the chosen id must be the correct choice's id


@dataclass(frozen=True, slots=True)
class Candidate:
    """An item that may be chosen; `fingerprint` is shared by variants of the same question."""

    item_id: uuid.UUID
    skill: str
    difficulty: float
    fingerprint: str


@dataclass(frozen=True, slots=True)
class ChosenItem:
    """A chosen item with the prediction that earned its place and a readable reason."""

    item_id: uuid.UUID
    skill: str
    difficulty: float
    predicted_success: float
    reason: str


Progress = Callable[[int, str], Awaitable[None]]


async def no_progress(_percent: int, _message: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class GapRequest:
    """What the bank could not supply: `count` items, preferring `skills`, near `difficulty`;
    `predict` is this student's chance at a difficulty, for each item's reason."""

    tenant_id: uuid.UUID
    subject: str
    topic: str | None
    skills: Sequence[str]
    count: int
    difficulty: float
    predict: Callable[[float], float]
    target_p: float
    avoid_fingerprints: frozenset[str]
    bank_version: int | None = None  # the tenant's, when planning read it


@dataclass(slots=True)
class Filled:
    """A filler's verified (unsaved) items, its report, and per skill how many it could not make."""

    items: list[tuple[Item, ChosenItem]] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)
    unproduced: dict[str, int] = field(default_factory=dict)


class GapFiller(Protocol):
    """Makes verified items for what the bank lacks; they stay unsaved until the plan is."""

    def covers(self, subject: str, topic: str | None) -> bool: ...

    def unchecked(self, subject: str) -> bool:
        """Whether what it writes for `subject` would pass on self-consistency alone."""
        ...

    async def fill(self, session: AsyncSession, gap: GapRequest, progress: Progress) -> Filled: ...
