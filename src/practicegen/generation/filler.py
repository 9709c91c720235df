"""Filling an assignment's gap with procedural items, built and checked in a process pool.

Building and checking run in the node's sympy processes with a deadline, so the event loop
never blocks. An item that fails its check or repeats what the student saw or the bank holds is
dropped and another seed tried, nearest level first. Items come back unsaved.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from typing import NamedTuple

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.db.models import Item
from practicegen.generation.procedural.catalog import SKILL_DEFS, SKILL_DEFS_BY_NAME
from practicegen.generation.procedural.checked import build_checked
from practicegen.generation.protocol import SkillSpec
from practicegen.grading.sympy_pool import SympyPool
from practicegen.items.fingerprint import fingerprint
from practicegen.items.repository import ItemRepository
from practicegen.items.schemas import ItemContent
from practicegen.items.service import to_row
from practicegen.ports import ChosenItem, Filled, GapRequest, Progress

log = structlog.get_logger()


class _Built(NamedTuple):
    content: ItemContent
    print: str


class ProceduralFiller:
    """Builds checked items in a sympy pool; `rng` draws the seeds."""

    ATTEMPTS_PER_ITEM = 4  # seeds per level for one item, nearest levels first
    ROUNDS = 4  # passes against the bank: an item it already holds is made again

    def __init__(self, *, workers: int, timeout_s: float, rng: random.Random | None = None) -> None:
        self.timeout_s = timeout_s
        self.pool = SympyPool(workers)
        self._by_subject: dict[str, list[SkillSpec]] = {}
        for definition in SKILL_DEFS:  # asked on every assign request: index it once
            self._by_subject.setdefault(definition.spec.subject, []).append(definition.spec)
        self.rng = rng or random.Random()

    def _specs(self, subject: str, topic: str | None) -> list[SkillSpec]:
        specs = self._by_subject.get(subject, [])
        return specs if topic is None else [s for s in specs if s.topic == topic]

    def covers(self, subject: str, topic: str | None) -> bool:
        return bool(self._specs(subject, topic))

    def unchecked(self, subject: str) -> bool:
        return False  # every procedural item is correct by construction

    def skill_topics(self, subject: str, topic: str | None) -> dict[str, str]:
        """Each skill the generators cover for the subject (and topic), with its topic."""
        return {s.skill: s.topic for s in self._specs(subject, topic)}

    async def aclose(self) -> None:
        await self.pool.aclose()

    async def _one(self, spec: SkillSpec, difficulty: float, avoid: set[str]) -> _Built | None:
        """A new checked item of the skill, trying the level nearest `difficulty` first."""

        def distance(level: int) -> float:
            return abs(SKILL_DEFS_BY_NAME[spec.skill].difficulty[level - 1] - difficulty)

        for level in sorted(range(1, spec.levels + 1), key=distance):
            for _ in range(self.ATTEMPTS_PER_ITEM):
                seed = self.rng.randrange(2**31)
                try:
                    data, problems = await self.pool.run(
                        build_checked, spec.skill, level, seed, timeout_s=self.timeout_s
                    )
                except TimeoutError:
                    log.warning("generation.timed_out", skill=spec.skill, level=level, seed=seed)
                    continue
                if problems:
                    log.warning("generation.rejected", skill=spec.skill, problems=problems)
                    continue
                content = ItemContent.model_validate(data)
                key = fingerprint(content)
                if key not in avoid:
                    avoid.add(key)
                    return _Built(content, key)
        return None

    async def fill(self, session: AsyncSession, gap: GapRequest, progress: Progress) -> Filled:
        specs = self._specs(gap.subject, gap.topic)
        if gap.skills:
            specs = [s for s in specs if s.skill in set(gap.skills)] or specs
        if not specs:
            return Filled(unproduced=dict(Counter(gap.skills or [gap.subject])))
        await progress(20, f"Generating {gap.count} question(s) the bank lacks...")
        wanted = [specs[i % len(specs)] for i in range(gap.count)]
        fresh = await self._fresh(session, gap, wanted)
        await progress(80, f"Generated and checked {len(fresh)} question(s).")
        lacking = Counter(s.skill for s in wanted) - Counter(b.content.skill for b in fresh)
        return Filled(
            items=[generated_row(gap, b.content, "generated for this assignment") for b in fresh],
            report={
                "procedural": {"requested": gap.count, "generated": len(fresh)},
                "unproduced": dict(lacking),
            },
            unproduced=dict(lacking),
        )

    async def _fresh(
        self, session: AsyncSession, gap: GapRequest, wanted: list[SkillSpec]
    ) -> list[_Built]:
        """An item per wanted skill that neither the student's recent items nor the bank hold."""
        avoid = set(gap.avoid_fingerprints)
        repo = ItemRepository(session)
        fresh: list[_Built] = []
        pending = wanted
        for _ in range(self.ROUNDS):
            built = await asyncio.gather(*(self._one(s, gap.difficulty, avoid) for s in pending))
            made = [b for b in built if b is not None]
            known = await repo.existing_fingerprints(gap.tenant_id, [b.print for b in made])
            fresh += [b for b in made if b.print not in known]
            pending = [s for s, b in zip(pending, built, strict=True) if b and b.print in known]
            if not pending:
                break
        return fresh


def generated_row(gap: GapRequest, content: ItemContent, how: str) -> tuple[Item, ChosenItem]:
    """A new bank row for a generated item, and the selection record that assigns it."""
    row = to_row(gap.tenant_id, content)
    row.id = uuid.uuid4()
    predicted = gap.predict(content.difficulty)
    reason = (
        f"{content.skill}: {how}, predicted success {predicted:.2f} (target {gap.target_p:.2f})"
    )
    return row, ChosenItem(row.id, row.skill, row.difficulty, predicted, reason)
