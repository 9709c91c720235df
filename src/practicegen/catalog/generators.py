"""What the procedural generators offer, read once from their table: the static half of the
catalogue, and the spellings of subjects and topics that requests are matched against."""

from __future__ import annotations

from functools import cache

from practicegen.generation.procedural.catalog import SKILL_DEFS
from practicegen.generation.protocol import SkillSpec
from practicegen.items.names import Spellings

GENERATOR_SKILLS: tuple[SkillSpec, ...] = tuple(definition.spec for definition in SKILL_DEFS)


@cache
def generator_skills_by_name() -> dict[str, SkillSpec]:
    return {spec.skill: spec for spec in GENERATOR_SKILLS}


def generator_spellings() -> Spellings:
    """A new `Spellings` of the generators' subjects and topics (the node keeps one)."""
    return Spellings((spec.subject, spec.topic) for spec in GENERATOR_SKILLS)
