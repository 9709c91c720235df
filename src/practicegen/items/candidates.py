"""An in-process cache of each subject's selectable items, current while the bank's version is
(read, or heard from `bank_changes`); `max_age_s` bounds how stale the drifting difficulties get.
"""

from __future__ import annotations

import asyncio
import bisect
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.items.repository import CandidateRow, ItemRepository
from practicegen.ports import Candidate

GroupKey = tuple[str, str]  # (topic, skill)
Face = TypeVar("Face")
FACES_PER_SUBJECT = 5000


@dataclass(frozen=True, slots=True)
class SubjectItems:
    """A subject's active items in (topic, skill) groups, each sorted by difficulty."""

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

    def nearest(self, key: GroupKey, center: float, count: int) -> list[Candidate]:
        """The group's `count` items whose difficulty is nearest `center` (all, if no more)."""
        group, levels = self.groups[key], self.difficulties[key]
        # They are a run group[lo:lo + count]: bisect for the first run whose first item is no
        # farther from center than the item just past its end.
        at = bisect.bisect_left(levels, center)
        lo, hi = max(0, at - count), min(at, len(group) - count)
        while lo < hi:
            mid = (lo + hi) // 2
            if center - levels[mid] > levels[mid + count] - center:
                lo = mid + 1
            else:
                hi = mid
        return group[lo : lo + count]


@dataclass(frozen=True, slots=True)
class _Entry:
    version: int
    loaded_at: float
    items: SubjectItems
    faces: dict[uuid.UUID, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Load:
    """A load under way: of which bank version, begun in which signal generation."""

    version: int
    generation: int
    done: asyncio.Event


class CandidateCache:
    """Each (tenant, subject)'s `SubjectItems`, reloaded when the tenant's bank changes: while
    `signals_live` trusted until a signal drops it, otherwise checked against the bank's version."""

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
        self.signals_live = False
        self._entries: dict[tuple[uuid.UUID, str], _Entry] = {}
        self._generations: dict[uuid.UUID, int] = {}  # bumped by each signal of a change
        self._loads: dict[tuple[uuid.UUID, str], _Load] = {}

    async def active_items(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        subject: str,
        *,
        version: int | None = None,
    ) -> SubjectItems:
        """`version`: the tenant's bank version if the caller has just read it (saving a read)."""
        key = (tenant_id, subject)
        entry = self._entries.get(key)
        fresh = entry is not None and self.clock() - entry.loaded_at <= self.max_age_s
        if entry is not None and fresh and self.signals_live:
            return entry.items
        generation = self._generations.get(tenant_id, 0)
        repo = ItemRepository(session)
        if version is None:
            version = await repo.bank_version(tenant_id)
        unchanged = entry is not None and entry.version == version
        if entry is not None and unchanged and fresh:
            return entry.items
        load = self._loads.get(key)
        if load is not None and (load.version, load.generation) == (version, generation):
            if entry is not None and unchanged:
                return entry.items  # only its difficulties are old, and they are being read
            await load.done.wait()
            entry = self._entries.get(key)
            if entry is not None and entry.version == version:
                return entry.items
        return await self._load(repo, key, version, generation)

    async def active_items_unread(
        self, session: AsyncSession, tenant_id: uuid.UUID, subject: str
    ) -> tuple[SubjectItems, int | None]:
        """As `active_items`, but a young enough entry is taken without reading the bank's
        version: returned with the version it was loaded at, which the caller's write must find
        still current (None: nothing to find, the items being current as heard or as read)."""
        entry = self._entries.get((tenant_id, subject))
        fresh = entry is not None and self.clock() - entry.loaded_at <= self.max_age_s
        if entry is not None and fresh and not self.signals_live:
            return entry.items, entry.version
        return await self.active_items(session, tenant_id, subject), None

    async def _load(
        self, repo: ItemRepository, key: tuple[uuid.UUID, str], version: int, generation: int
    ) -> SubjectItems:
        tenant_id, subject = key
        load = _Load(version, generation, asyncio.Event())
        self._loads[key] = load
        try:
            rows = await repo.candidates(tenant_id, subject=subject)
            loaded = _Entry(version, self.clock(), SubjectItems.of(rows))
            if self._generations.get(tenant_id, 0) == generation:  # no change signalled meanwhile
                if len(self._entries) >= self.max_subjects:
                    self._entries.clear()
                self._entries[key] = loaded
            return loaded.items
        finally:
            load.done.set()
            if self._loads.get(key) is load:
                del self._loads[key]

    async def faces(
        self,
        tenant_id: uuid.UUID,
        subject: str,
        item_ids: Sequence[uuid.UUID],
        read: Callable[[list[uuid.UUID]], Awaitable[dict[uuid.UUID, Face]]],
    ) -> dict[uuid.UUID, Face]:
        """The faces of `item_ids` (of `subject`), those not kept read with `read`."""
        entry = self._entries.get((tenant_id, subject))
        kept: dict[uuid.UUID, Face] = entry.faces if entry is not None else {}
        missing = [item_id for item_id in item_ids if item_id not in kept]
        found = await read(missing) if missing else {}
        if entry is not None and len(kept) + len(found) <= FACES_PER_SUBJECT:
            kept.update(found)
        return {i: face for i in item_ids if (face := kept.get(i, found.get(i))) is not None}

    def invalidate(self, tenant_id: uuid.UUID) -> None:
        """The tenant's bank changed: drop its subjects."""
        self._generations[tenant_id] = self._generations.get(tenant_id, 0) + 1
        for key in [k for k in self._entries if k[0] == tenant_id]:
            del self._entries[key]

    def bank_changed(self, payload: str) -> None:
        """The node listener's handler for `BANK_CHANNEL`: the payload is a tenant id."""
        self.invalidate(uuid.UUID(payload))

    def signals_started(self) -> None:
        """This node now hears bank changes; what it holds may predate them, so drop it all."""
        for tenant_id in {k[0] for k in self._entries}:
            self.invalidate(tenant_id)
        self.signals_live = True

    def signals_lost(self) -> None:
        self.signals_live = False
