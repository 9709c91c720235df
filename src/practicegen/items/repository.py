"""SQL for the item bank. Every read is scoped by tenant."""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Row,
    Select,
    bindparam,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)

from practicegen.db.models import Item, core_table
from practicegen.db.repository import TenantRepository
from practicegen.errors import ItemNotFound
from practicegen.items.bank_changes import mark_bank_changed, version_of
from practicegen.items.schemas import ItemContent

_items = core_table(Item)
# The statements a job runs are built once (building one costs more CPU than sending it).
_CANDIDATES = select(
    _items.c.id, _items.c.skill, _items.c.topic, _items.c.difficulty, _items.c.fingerprint
).where(
    _items.c.tenant_id == bindparam("tenant_id"),
    _items.c.subject == bindparam("subject"),
    _items.c.status == "active",
)
_FINGERPRINTS = select(_items.c.fingerprint).where(
    _items.c.tenant_id == bindparam("tenant_id"),
    _items.c.fingerprint.in_(bindparam("prints", expanding=True)),
)
_CANDIDATES_PER_PART = 2000
# skill first: a skill's name alone stands in the same column (`ItemRepository.examples`)
_EXAMPLE_COLUMNS = [
    _items.c.skill,
    *(_items.c[n] for n in ItemContent.model_fields if n != "skill"),
]
_EXAMPLE_ORDER = (_items.c.source != "bank", _items.c.created_at)


@dataclass(frozen=True, slots=True)
class ItemFilters:
    subject: str | None = None
    topic: str | None = None
    skill: str | None = None
    source: str | None = None
    status: str | None = None
    difficulty_min: float | None = None
    difficulty_max: float | None = None


@dataclass(frozen=True, slots=True)
class BankExamples:
    """Skills a bank's items name, and a few active items of some skills (`ItemContent`'s
    columns), to show a language model."""

    skills: set[str]
    examples: dict[str, list[Row[Any]]]


@dataclass(frozen=True, slots=True)
class CandidateRow:
    """The few columns selection needs, read without building ORM objects."""

    id: uuid.UUID
    skill: str
    topic: str
    difficulty: float
    fingerprint: str


@functools.cache
def _examples_query(named: str | None) -> Select[Any] | CompoundSelect[Any]:
    """`ItemRepository.examples`'s query, built once per kind: with the skills named in the
    subject's items (`named` "subject"), or in those of a topic ("topic"), or not (None).
    Parameters: tenant_id, subject, topic, skills, limit."""
    c = _items.c
    owned = (c.tenant_id == bindparam("tenant_id"), c.subject == bindparam("subject"))
    wanted: ColumnElement[bool] = c.skill.in_(bindparam("skills", expanding=True))
    names = None
    if named is not None:
        on_topic = (c.topic == bindparam("topic"),) if named == "topic" else ()
        names = select(c.skill).where(*owned, *on_topic).distinct().subquery()
        wanted = or_(wanted, c.skill.in_(select(names.c.skill)))
    rank = func.row_number().over(partition_by=c.skill, order_by=_EXAMPLE_ORDER)
    ranked = select(*_EXAMPLE_COLUMNS, rank.label("rank"))
    ranked_rows = ranked.where(*owned, c.status == "active", wanted).subquery()
    query = select(*ranked_rows.c).where(ranked_rows.c.rank <= bindparam("limit"))
    if names is None:
        return query
    # rank 0: a skill's name, with or without examples
    blanks = [null().label(column.key) for column in _EXAMPLE_COLUMNS[1:]]
    return union_all(query, select(names.c.skill, *blanks, literal(0)))


class ItemRepository(TenantRepository[Item]):
    model = Item
    not_found = ItemNotFound
    id_detail = "item_id"

    def filtered(self, tenant_id: uuid.UUID, filters: ItemFilters) -> Select[Item]:
        query = self.owned(tenant_id)
        for column, value in (
            (Item.subject, filters.subject),
            (Item.topic, filters.topic),
            (Item.skill, filters.skill),
            (Item.source, filters.source),
            (Item.status, filters.status),
        ):
            if value is not None:
                query = query.where(column == value)
        if filters.difficulty_min is not None:
            query = query.where(Item.difficulty >= filters.difficulty_min)
        if filters.difficulty_max is not None:
            query = query.where(Item.difficulty <= filters.difficulty_max)
        return query

    async def list_all(self, tenant_id: uuid.UUID, filters: ItemFilters) -> list[Item]:
        query = self.filtered(tenant_id, filters).order_by(Item.created_at, Item.id)
        return list((await self.session.execute(query)).scalars())

    async def examples(
        self,
        tenant_id: uuid.UUID,
        *,
        subject: str,
        skills: Sequence[str],
        limit: int,
        named_in: tuple[str | None] | None = None,
    ) -> BankExamples:
        """Up to `limit` active items of each of `skills` (nearest the bank's own first, as the
        columns of an `ItemContent`) to show a model, in one query through Core. With
        `named_in` (a topic, or None for the whole subject), also the skills the subject's items
        of that topic name, whatever their status, and examples of those."""
        named = None if named_in is None else ("topic" if named_in[0] is not None else "subject")
        params = {"tenant_id": tenant_id, "subject": subject, "skills": list(skills)}
        params |= {"limit": limit, "topic": None if named_in is None else named_in[0]}
        rows = await self.session.execute(_examples_query(named), params)
        found = BankExamples(set(), {})
        for row in sorted(rows, key=lambda row: row.rank):
            if row.rank == 0:
                found.skills.add(row.skill)
            else:
                found.examples.setdefault(row.skill, []).append(row)
        return found

    async def candidates(self, tenant_id: uuid.UUID, *, subject: str) -> list[CandidateRow]:
        """The active items of a subject, as the few columns selection needs; converted in
        parts, other requests running between them, as a subject may hold tens of thousands."""
        params = {"tenant_id": tenant_id, "subject": subject}
        rows: list[CandidateRow] = []
        for part in (await self.session.execute(_CANDIDATES, params)).partitions(
            _CANDIDATES_PER_PART
        ):
            rows += [CandidateRow(*row) for row in part]
            await asyncio.sleep(0)
        return rows

    async def bank_version(self, tenant_id: uuid.UUID) -> int:
        return int((await self.session.execute(version_of(tenant_id))).scalar_one())

    async def bump_bank_version(self, tenant_id: uuid.UUID) -> None:
        """Tell every cache of this tenant's bank that its set of items changed (the version
        is bumped, and the change signalled, just before this transaction commits)."""
        mark_bank_changed(self.session.sync_session, tenant_id)

    async def subjects(self, tenant_id: uuid.UUID) -> set[str]:
        return await self._distinct(_items.c.subject, tenant_id)

    async def topics(self, tenant_id: uuid.UUID, subject: str) -> set[str]:
        return await self._distinct(_items.c.topic, tenant_id, _items.c.subject == subject)

    async def has_names(self, tenant_id: uuid.UUID, subject: str, topic: str | None) -> bool:
        """Whether an item of any status is spelled with this subject (and topic)."""
        on_topic = () if topic is None else (_items.c.topic == topic,)
        query = (
            select(_items.c.id)
            .where(_items.c.tenant_id == tenant_id, _items.c.subject == subject, *on_topic)
            .limit(1)
        )
        return (await self.session.execute(query)).first() is not None

    async def spellings(self, tenant_id: uuid.UUID) -> set[tuple[str, str]]:
        """Every (subject, topic) spelled by an item of any status."""
        query = (
            select(_items.c.subject, _items.c.topic)
            .where(_items.c.tenant_id == tenant_id)
            .distinct()
        )
        return {(subject, topic) for subject, topic in await self.session.execute(query)}

    async def _distinct(
        self, column: ColumnElement[str], tenant_id: uuid.UUID, *where: ColumnElement[bool]
    ) -> set[str]:
        """Through Core: the ORM's compiling and loading buy nothing for a column of strings."""
        query = select(column).where(_items.c.tenant_id == tenant_id, *where).distinct()
        return set((await self.session.execute(query)).scalars())

    async def count(self, tenant_id: uuid.UUID) -> int:
        query = select(func.count()).where(Item.tenant_id == tenant_id)
        return int((await self.session.execute(query)).scalar_one())

    async def existing_fingerprints(self, tenant_id: uuid.UUID, prints: list[str]) -> set[str]:
        if not prints:
            return set()
        params = {"tenant_id": tenant_id, "prints": prints}
        return set((await self.session.execute(_FINGERPRINTS, params)).scalars())

    async def add_all(self, items: list[Item]) -> None:
        self.session.add_all(items)
        await self.session.flush()
        for tenant_id in {item.tenant_id for item in items}:
            await self.bump_bank_version(tenant_id)
