"""Building the catalogue: the generators' skills (static) merged with the bank's counts.

A skill the procedural generators write is `offline`; any other is `model` when a language
model is configured (it writes for any subject and topic, in a job), else `bank`. A topic or
subject is `offline` when a generator writes any of its skills, as assigning it then can be.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.auth.principal import Principal
from practicegen.catalog.generators import GENERATOR_SKILLS, generator_skills_by_name
from practicegen.catalog.repository import SkillCount, active_counts
from practicegen.catalog.schemas import (
    CatalogRead,
    Generation,
    SkillEntry,
    SubjectEntry,
    TopicEntry,
)

_Entry = TypeVar("_Entry", SubjectEntry, TopicEntry)
_Tree = dict[str, dict[str, dict[str, int]]]  # subject -> topic -> skill -> active items


async def read_catalog(
    session: AsyncSession, *, principal: Principal, model_configured: bool
) -> CatalogRead:
    """The catalogue of the caller's tenant (any caller: it shows names and counts only)."""
    counts = await active_counts(session, principal.tenant_id)
    return build_catalog(counts, model_configured=model_configured)


def build_catalog(counts: Iterable[SkillCount], *, model_configured: bool) -> CatalogRead:
    tree: _Tree = defaultdict(lambda: defaultdict(dict))
    for spec in GENERATOR_SKILLS:
        tree[spec.subject][spec.topic][spec.skill] = 0
    for subject, topic, skill, count in counts:
        skills = tree[subject][topic]
        skills[skill] = skills.get(skill, 0) + count
    fallback = Generation.MODEL if model_configured else Generation.BANK
    subjects = [_subject(name, topics, fallback) for name, topics in tree.items()]
    return CatalogRead(model_configured=model_configured, subjects=_sorted(subjects))


def _subject(name: str, topics: dict[str, dict[str, int]], fallback: Generation) -> SubjectEntry:
    entries = _sorted([_topic(topic, skills, fallback) for topic, skills in topics.items()])
    item_count, generation = _totals(entries, fallback)
    return SubjectEntry(name=name, item_count=item_count, generation=generation, topics=entries)


def _topic(name: str, skills: dict[str, int], fallback: Generation) -> TopicEntry:
    entries = [_skill(skill, count, fallback) for skill, count in sorted(skills.items())]
    item_count, generation = _totals(entries, fallback)
    return TopicEntry(name=name, item_count=item_count, generation=generation, skills=entries)


def _skill(skill: str, count: int, fallback: Generation) -> SkillEntry:
    spec = generator_skills_by_name().get(skill)
    return SkillEntry(
        skill=skill,
        description=None if spec is None else spec.description,
        levels=None if spec is None else spec.levels,
        item_count=count,
        generation=fallback if spec is None else Generation.OFFLINE,
    )


def _totals(
    parts: Sequence[SkillEntry | TopicEntry], fallback: Generation
) -> tuple[int, Generation]:
    """The items of an entry's parts, and `offline` if a generator writes any of them."""
    offline = any(part.generation is Generation.OFFLINE for part in parts)
    return sum(part.item_count for part in parts), Generation.OFFLINE if offline else fallback


def _sorted(entries: list[_Entry]) -> list[_Entry]:
    return sorted(entries, key=lambda entry: (entry.name.casefold(), entry.name))
