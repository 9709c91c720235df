"""What a synchronous item generator covers (`SkillSpec`), and its refusals of what it does not.

Generation is pure: the same (skill, level, seed) always yields the same item, so generators may
run in a process pool and any item be rebuilt from its provenance. Levels count from 1.
"""

from __future__ import annotations

from dataclasses import dataclass

from practicegen.errors import InvalidRequest


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
