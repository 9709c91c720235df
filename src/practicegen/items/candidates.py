"""An in-process cache of each subject's selectable items, checked against the bank's version.

Selection ranks every active item of a subject, and reading thousands of rows per request would
dominate the assign endpoint's time. Each tenant row carries a `bank_version` that every write
to its set of items bumps (in the same transaction), so one primary-key read tells whether the
cached list is current, on any node. Difficulty estimates drift with every answer without a
version bump; `max_age_s` bounds how stale those may get.
"""

from __future__ import annotations

import bisect
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.items.repository import CandidateRow, ItemRepository
from practicegen.practice.selection import Candidate

GroupKey = tuple[str, str]  # (topic, skill)


@dataclass(frozen=True, slots=True)
class SubjectItems:
    """A subject's active items in (topic, skill) groups, each sorted by difficulty.

    Sorting lets an assignment take only the items near each skill's target difficulty
    (`window`), so selection ranks hundreds of items instead of the whole subject.
    """

    groups: dict[GroupKey, list[Candidate]]
    difficulties: dict[GroupKey, list[float]]

    @classmethod
    def of(cls, rows: Sequence[CandidateRow]) -> SubjectItems:
        groups: dict[GroupKey, list[Candidate]] = {}
        for row in rows:
            candidate = Candidate(row.id, row.skill, row.difficulty, row.fingerprint)
            groups.setdefault((row.topic, row.skill), []).append(candidate)
        for group in groups.values():
            group.sort(key=lambda c: c.difficulty)
        difficulties = {key: [c.difficulty for c in group] for key, group in groups.items()}
        return cls(groups=groups, difficulties=difficulties)

    def keys_for(self, *, topic: str | None, skills: Sequence[str]) -> list[GroupKey]:
        """Groups of the topic and/or of the goal skills (either matches when both are given)."""
        if topic is None and not skills:
            return list(self.groups)
        wanted = set(skills)
        return [key for key in self.groups if key[0] == topic or key[1] in wanted]

    def window(
        self, key: GroupKey, center: float, *, minimum: int, half_width: float = 1.0
    ) -> list[Candidate]:
        """The group's items within `half_width` of `center`, widened to at least `minimum`."""
        group, levels = self.groups[key], self.difficulties[key]
        if len(group) <= minimum:
            return group
        lo = bisect.bisect_left(levels, center - half_width)
        hi = bisect.bisect_right(levels, center + half_width)
        while hi - lo < minimum:
            lo, hi = max(0, lo - minimum), min(len(group), hi + minimum)
        return group[lo:hi]


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
