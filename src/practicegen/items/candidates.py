"""An in-process cache of each subject's selectable items, checked against the bank's version.

Selection ranks every active item of a subject, and reading thousands of rows per request would
dominate the assign endpoint's time. Each tenant row carries a `bank_version` that every write
to its set of items bumps (in the same transaction), so one primary-key read tells whether the
cached list is current, on any node. Difficulty estimates drift with every answer without a
version bump; `max_age_s` bounds how stale those may get.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.items.repository import CandidateRow, ItemRepository
from practicegen.practice.selection import Candidate


@dataclass(frozen=True, slots=True)
class SubjectItems:
    """A subject's active items, grouped the two ways an assignment asks for them."""

    by_topic: dict[str, list[Candidate]]
    by_skill: dict[str, list[Candidate]]

    @classmethod
    def of(cls, rows: Sequence[CandidateRow]) -> SubjectItems:
        by_topic: dict[str, list[Candidate]] = {}
        by_skill: dict[str, list[Candidate]] = {}
        for row in rows:
            candidate = Candidate(row.id, row.skill, row.difficulty, row.fingerprint)
            by_topic.setdefault(row.topic, []).append(candidate)
            by_skill.setdefault(row.skill, []).append(candidate)
        return cls(by_topic=by_topic, by_skill=by_skill)

    def narrow(self, *, topic: str | None, skills: Sequence[str]) -> list[Candidate]:
        """Items of the topic and/or of the goal skills (either matches when both are given)."""
        if topic is None and not skills:
            return [c for group in self.by_topic.values() for c in group]
        chosen = list(self.by_topic.get(topic, [])) if topic is not None else []
        seen = {c.item_id for c in chosen}
        for skill in dict.fromkeys(skills):
            for candidate in self.by_skill.get(skill, []):
                if candidate.item_id not in seen:
                    seen.add(candidate.item_id)
                    chosen.append(candidate)
        return chosen


@dataclass(frozen=True, slots=True)
class _Entry:
    version: int
    loaded_at: float
    items: SubjectItems


class CandidateCache:
    def __init__(
        self,
        *,
        max_age_s: float,
        max_subjects: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_age_s = max_age_s
        self.max_subjects = max_subjects
        self.clock = clock
        self._entries: dict[tuple[uuid.UUID, str], _Entry] = {}

    async def active_items(
        self, session: AsyncSession, tenant_id: uuid.UUID, subject: str
    ) -> SubjectItems:
        repo = ItemRepository(session)
        version = await repo.bank_version(tenant_id)
        key = (tenant_id, subject)
        entry = self._entries.get(key)
        now = self.clock()
        if entry is None or entry.version != version or now - entry.loaded_at > self.max_age_s:
            if len(self._entries) >= self.max_subjects:
                self._entries.clear()
            rows = await repo.candidates(tenant_id, subject=subject)
            entry = _Entry(version, now, SubjectItems.of(rows))
            self._entries[key] = entry
        return entry.items
