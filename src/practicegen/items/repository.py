"""SQL for the item bank. Every read is scoped by tenant."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, bindparam, func, select

from practicegen.db.models import Item, bank_version_of, core_table
from practicegen.db.repository import TenantRepository
from practicegen.errors import ItemNotFound
from practicegen.items.bank_changes import mark_bank_changed
from practicegen.items.schemas import ItemContent

_items = core_table(Item)
_EQUAL = ("subject", "topic", "skill", "source", "status")


def _matching(values: Mapping[str, object]) -> list[ColumnElement[bool]]:
    """What an item filter asks: each of `_EQUAL` equal to its value, difficulty within
    `difficulty_min` and `difficulty_max`; a value of None (or left out) asks nothing."""
    where = [_items.c[name] == values[name] for name in _EQUAL if values.get(name) is not None]
    if (low := values.get("difficulty_min")) is not None:
        where.append(_items.c.difficulty >= low)
    if (high := values.get("difficulty_max")) is not None:
        where.append(_items.c.difficulty <= high)
    return where


# The statements a job runs are built once (building one costs more CPU than sending it).
_OWNED = (_items.c.tenant_id == bindparam("tenant_id"), _items.c.subject == bindparam("subject"))
_CANDIDATES = select(
    _items.c.id, _items.c.skill, _items.c.topic, _items.c.difficulty, _items.c.fingerprint
).where(*_OWNED, _items.c.status == "active")
_BANK_VERSION = bank_version_of(bindparam("tenant_id"))  # read by every checked request
_FINGERPRINTS = select(_items.c.fingerprint).where(
    _items.c.tenant_id == bindparam("tenant_id"),
    _items.c.fingerprint.in_(bindparam("prints", expanding=True)),
)
_SKILLS = select(_items.c.skill).where(*_OWNED).distinct()
_HAS_SUBJECT = select(_items.c.id).where(*_OWNED).limit(1)  # read by every create
_HAS_NAMES = _HAS_SUBJECT.where(_items.c.topic == bindparam("topic"))
_SPELLINGS = (
    select(_items.c.subject, _items.c.topic)
    .where(_items.c.tenant_id == bindparam("tenant_id"))
    .distinct()
)
_SKILLS_OF_TOPIC = _SKILLS.where(_items.c.topic == bindparam("topic"))
_CANDIDATES_PER_PART = 2000
_EXAMPLES = (
    select(*(_items.c[name] for name in ItemContent.model_fields))
    .where(
        _items.c.tenant_id == bindparam("tenant_id"),
        *_matching(
            {"subject": bindparam("subject"), "skill": bindparam("skill"), "status": "active"}
        ),
    )
    .order_by(_items.c.source != "bank", _items.c.created_at)
    .limit(bindparam("limit"))
)


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
class CandidateRow:
    """The few columns selection needs, read without building ORM objects."""

    id: uuid.UUID
    skill: str
    topic: str
    difficulty: float
    fingerprint: str


class ItemRepository(TenantRepository[Item]):
    model = Item
    not_found = ItemNotFound
    id_detail = "item_id"

    def filtered(self, tenant_id: uuid.UUID, filters: ItemFilters) -> Select[Item]:
        return self.owned(tenant_id).where(*_matching(asdict(filters)))

    async def list_all(self, tenant_id: uuid.UUID, filters: ItemFilters) -> list[Item]:
        query = self.filtered(tenant_id, filters).order_by(Item.created_at, Item.id)
        return list((await self.session.execute(query)).scalars())

    async def examples(
        self, tenant_id: uuid.UUID, *, subject: str, skill: str, limit: int
    ) -> list[Row[Any]]:
        """A few active items of one skill, the bank's own first, as `ItemContent` columns."""
        params = {"tenant_id": tenant_id, "subject": subject, "skill": skill, "limit": limit}
        return list(await self.session.execute(_EXAMPLES, params))

    async def candidates(self, tenant_id: uuid.UUID, *, subject: str) -> list[CandidateRow]:
        """A subject's active items, converted in parts so other requests run between them."""
        params = {"tenant_id": tenant_id, "subject": subject}
        rows: list[CandidateRow] = []
        result = await self.session.execute(_CANDIDATES, params)
        for part in result.partitions(_CANDIDATES_PER_PART):
            rows += [CandidateRow(*row) for row in part]
            await asyncio.sleep(0)
        return rows

    async def bank_version(self, tenant_id: uuid.UUID) -> int:
        result = await self.session.execute(_BANK_VERSION, {"tenant_id": tenant_id})
        return int(result.scalar_one())

    async def bump_bank_version(self, tenant_id: uuid.UUID) -> None:
        """Tell every cache of the tenant's bank that it changed, as this transaction commits."""
        mark_bank_changed(self.session.sync_session, tenant_id)

    async def subjects(self, tenant_id: uuid.UUID) -> set[str]:
        return await self._distinct(_items.c.subject, tenant_id)

    async def topics(self, tenant_id: uuid.UUID, subject: str) -> set[str]:
        return await self._distinct(_items.c.topic, tenant_id, _items.c.subject == subject)

    async def skills(self, tenant_id: uuid.UUID, subject: str, topic: str | None) -> set[str]:
        statement = _SKILLS if topic is None else _SKILLS_OF_TOPIC
        params = {"tenant_id": tenant_id, "subject": subject, "topic": topic}
        return set((await self.session.execute(statement, params)).scalars())

    async def has_names(self, tenant_id: uuid.UUID, subject: str, topic: str | None) -> bool:
        """Whether an item of any status is spelled with this subject (and topic)."""
        statement = _HAS_SUBJECT if topic is None else _HAS_NAMES
        params = {"tenant_id": tenant_id, "subject": subject, "topic": topic}
        return (await self.session.execute(statement, params)).first() is not None

    async def spellings(self, tenant_id: uuid.UUID) -> set[tuple[str, str]]:
        """Every (subject, topic) spelled by an item of any status."""
        rows = await self.session.execute(_SPELLINGS, {"tenant_id": tenant_id})
        return {(subject, topic) for subject, topic in rows}

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
