"""What a synchronous item generator is, so the service can treat every such generator alike.

Generation is pure: the same (skill, level, seed) always yields the same item, so generators may
run in a process pool and any item be rebuilt from its provenance. Levels count from 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from practicegen.errors import InvalidRequest
from practicegen.items.schemas import ItemContent


@dataclass(frozen=True, slots=True)
class SkillSpec:
    """One skill a generator covers; `levels` is the number of difficulty levels (1..levels)."""

    subject: str
    topic: str
    skill: str
    levels: int
    description: str


class UnknownSkill(InvalidRequest):
    code = "unknown_skill"
    default_message = "No generator covers this skill."


class LevelOutOfRange(InvalidRequest):
    code = "level_out_of_range"
    default_message = "The level is outside the skill's range of levels."


class ItemGenerator(Protocol):
    """An instant, synchronous, deterministic source of items."""

    name: str

    def skills(self) -> Sequence[SkillSpec]: ...

    def generate(self, skill: str, level: int, seed: int) -> ItemContent:
        """Build the item for (skill, level, seed); raises UnknownSkill or LevelOutOfRange."""
        ...
