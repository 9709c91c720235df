"""One load of a subject at a time: old entries serve while one request refreshes them."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator

import pytest

from practicegen.auth.principal import DEFAULT_TENANT_ID
from practicegen.config import Settings
from practicegen.db.engine import SessionMaker
from practicegen.items import candidates
from practicegen.items.candidates import CandidateCache, SubjectItems
from practicegen.items.repository import CandidateRow, ItemRepository
from practicegen.items.service import import_bank
from tests.api.factories import item_body


class HeldLoads:
    """Stands in for the candidates read: counts the loads and holds each until released."""

    def __init__(self) -> None:
        self.started = 0
        self.release = asyncio.Event()
        self.began = asyncio.Event()

    async def candidates(self, tenant_id: uuid.UUID, *, subject: str) -> list[CandidateRow]:
        self.started += 1
        self.began.set()
        await self.release.wait()
        return [CandidateRow(uuid.uuid4(), "s", "t", 0.0, f"f{self.started}")]


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch, sessionmaker: SessionMaker) -> HeldLoads:
    """Held loads for this test's database; a read of another (a task an earlier test left on
    the shared event loop) goes to the real query, uncounted."""
    held = HeldLoads()
    real = ItemRepository.candidates
    engine = sessionmaker.kw["bind"]

    async def candidates(
        repo: ItemRepository, tenant_id: uuid.UUID, *, subject: str
    ) -> list[CandidateRow]:
        if repo.session.bind is not engine:
            return await real(repo, tenant_id, subject=subject)
        return await held.candidates(tenant_id, subject=subject)

    monkeypatch.setattr(ItemRepository, "candidates", candidates)
    return held


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def _items(
    cache: CandidateCache, sessionmaker: SessionMaker, subject: str = "Algebra"
) -> SubjectItems:
    async with sessionmaker() as session:
        return await cache.active_items(session, DEFAULT_TENANT_ID, subject)


@pytest.fixture
async def cache(sessionmaker: SessionMaker) -> AsyncIterator[tuple[CandidateCache, Clock]]:
    clock = Clock()
    yield CandidateCache(max_age_s=30, clock=clock), clock


async def test_requests_that_find_no_entry_share_one_load(
    cache: tuple[CandidateCache, Clock], sessionmaker: SessionMaker, loads: HeldLoads
) -> None:
    subjects, _ = cache
    waiting = [asyncio.create_task(_items(subjects, sessionmaker)) for _ in range(5)]
    await loads.began.wait()
    await asyncio.sleep(0.05)
    assert not any(task.done() for task in waiting)
    loads.release.set()
    results = await asyncio.gather(*waiting)
    assert loads.started == 1
    assert all(result is results[0] for result in results)


async def test_an_old_entry_serves_the_others_while_one_request_refreshes_it(
    cache: tuple[CandidateCache, Clock], sessionmaker: SessionMaker, loads: HeldLoads
) -> None:
    subjects, clock = cache
    loads.release.set()
    first = await _items(subjects, sessionmaker)
    loads.release.clear()
    loads.began.clear()  # else the wait below returns before the refresh has begun
    clock.now = 31  # older than max_age_s, the bank unchanged
    refreshing = asyncio.create_task(_items(subjects, sessionmaker))
    await loads.began.wait()
    others = await asyncio.wait_for(
        asyncio.gather(*(_items(subjects, sessionmaker) for _ in range(3))), timeout=5
    )
    assert all(result is first for result in others)  # not held up by the refresh
    loads.release.set()
    refreshed = await refreshing
    assert refreshed is not first and loads.started == 2
    assert await _items(subjects, sessionmaker) is refreshed


async def test_a_changed_bank_is_never_served_from_the_old_entry_or_an_old_load(
    cache: tuple[CandidateCache, Clock],
    sessionmaker: SessionMaker,
    loads: HeldLoads,
    settings: Settings,
) -> None:
    subjects, clock = cache
    loads.release.set()
    first = await _items(subjects, sessionmaker)
    loads.release.clear()
    loads.began.clear()
    clock.now = 31
    old_load = asyncio.create_task(_items(subjects, sessionmaker))
    await loads.began.wait()
    async with sessionmaker() as session, session.begin():
        document = {"format": "practicegen-bank", "version": 1, "items": [item_body()]}
        await import_bank(session, tenant_id=DEFAULT_TENANT_ID, document=document)
    after_change = asyncio.create_task(_items(subjects, sessionmaker))
    await asyncio.sleep(0.05)
    assert not after_change.done()  # the old entry is out of date: it waits for a load
    assert loads.started == 3  # its own: the one under way read the bank before the change
    loads.release.set()
    assert (await after_change) is not first
    await old_load


async def test_a_failed_load_leaves_the_next_request_free_to_load(
    cache: tuple[CandidateCache, Clock],
    sessionmaker: SessionMaker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    subjects, _ = cache
    calls = 0
    loading = asyncio.Event()

    async def failing_once(
        repo: ItemRepository, tenant_id: uuid.UUID, *, subject: str
    ) -> list[CandidateRow]:
        nonlocal calls
        calls += 1
        if calls == 1:
            loading.set()
            await asyncio.sleep(0.05)
            raise RuntimeError("the database went away")
        return []

    monkeypatch.setattr(ItemRepository, "candidates", failing_once)
    failing = asyncio.create_task(_items(subjects, sessionmaker))
    await loading.wait()  # the first request is the one loading (a connection may take a while)
    waiting = asyncio.create_task(_items(subjects, sessionmaker))
    with pytest.raises(RuntimeError):
        await failing
    assert (await waiting).groups == {}
    assert calls == 2


async def test_faces_are_read_once_while_the_subject_entry_lives(
    cache: tuple[CandidateCache, Clock], sessionmaker: SessionMaker, loads: HeldLoads
) -> None:
    subjects, _ = cache
    loads.release.set()
    await _items(subjects, sessionmaker)
    one, two, gone = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    asked: list[list[uuid.UUID]] = []

    async def read(ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
        asked.append(ids)
        return {i: f"face of {i}" for i in ids if i != gone}

    first = await subjects.faces(DEFAULT_TENANT_ID, "Algebra", [one, gone], read)
    assert first == {one: f"face of {one}"}
    second = await subjects.faces(DEFAULT_TENANT_ID, "Algebra", [one, two], read)
    assert second == {one: f"face of {one}", two: f"face of {two}"}
    assert asked == [[one, gone], [two]]
    subjects.invalidate(DEFAULT_TENANT_ID)  # the bank changed: faces go with the entry
    await _items(subjects, sessionmaker)
    await subjects.faces(DEFAULT_TENANT_ID, "Algebra", [one], read)
    assert asked[-1] == [one]
    # a subject the cache holds no entry for keeps nothing
    await subjects.faces(DEFAULT_TENANT_ID, "Geometry", [one], read)
    await subjects.faces(DEFAULT_TENANT_ID, "Geometry", [one], read)
    assert asked[-2:] == [[one], [one]]


async def test_a_subject_keeps_a_bounded_number_of_faces(
    cache: tuple[CandidateCache, Clock],
    sessionmaker: SessionMaker,
    loads: HeldLoads,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    subjects, _ = cache
    loads.release.set()
    await _items(subjects, sessionmaker)
    monkeypatch.setattr(candidates, "FACES_PER_SUBJECT", 3)
    ids = [uuid.uuid4() for _ in range(4)]
    asked: list[list[uuid.UUID]] = []

    async def read(wanted: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        asked.append(wanted)
        return {i: n for n, i in enumerate(wanted)}

    await subjects.faces(DEFAULT_TENANT_ID, "Algebra", ids[:2], read)
    shown = await subjects.faces(DEFAULT_TENANT_ID, "Algebra", ids[1:], read)
    assert set(shown) == set(ids[1:])
    await subjects.faces(DEFAULT_TENANT_ID, "Algebra", ids[2:], read)
    assert asked == [ids[:2], ids[2:], ids[2:]]  # the two that would pass the bound were not kept


def test_nearest_are_the_items_closest_to_the_center() -> None:
    rng = random.Random(5)
    for trial in range(300):
        size = rng.randint(1, 60)
        # Coarse difficulties make ties common: any nearest run is then as good as another.
        levels = [round(rng.uniform(-3.0, 3.0), rng.choice([0, 1, 3])) for _ in range(size)]
        rows = [CandidateRow(uuid.uuid4(), "s", "t", d, f"f{n}") for n, d in enumerate(levels)]
        items = SubjectItems.of(rows)
        center, count = rng.uniform(-4.0, 4.0), rng.randint(1, 70)
        got = items.nearest(("t", "s"), center, count)
        assert len(got) == min(count, size), trial
        distances = sorted(abs(d - center) for d in levels)
        assert sorted(abs(c.difficulty - center) for c in got) == distances[:count], trial
