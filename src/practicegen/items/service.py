"""The item bank's rules: create, read, list, update, retire, import and export."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.auth.principal import Principal
from practicegen.db.models import Item
from practicegen.items.bank_format import ParsedBank, RejectedRow, parse_bank
from practicegen.items.fingerprint import fingerprint
from practicegen.items.names import Spellings, bank_spellings, canonical_names
from practicegen.items.repository import ItemFilters, ItemRepository
from practicegen.items.schemas import ItemContent, ItemStatus, ItemUpdate

if TYPE_CHECKING:
    from practicegen.items.keys import KeyReader, ReadableItem

ImportProgress = Callable[[int, int], None]  # (rows done, rows in all)


def to_row(tenant_id: uuid.UUID, content: ItemContent) -> Item:
    return Item(
        tenant_id=tenant_id,
        fingerprint=fingerprint(content),
        status=ItemStatus.ACTIVE.value,
        **content.model_dump(mode="json"),
    )


def to_content(row: Item) -> ItemContent:
    return ItemContent.model_validate(row, from_attributes=True)


def _named(content: ItemContent, names: tuple[str, str | None]) -> ItemContent:
    subject, topic = names
    if (subject, topic) == (content.subject, content.topic):
        return content
    return content.model_copy(update={"subject": subject, "topic": topic})


async def create_item(
    session: AsyncSession,
    *,
    principal: Principal,
    body: ReadableItem,
    known: Spellings | None = None,
) -> Item:
    """Store `body`, its subject and topic as spelled in `known` or the bank."""
    principal.require_server()
    names = await canonical_names(
        session, principal.tenant_id, body.subject, body.topic, known or Spellings()
    )
    row = to_row(principal.tenant_id, _named(body, names))
    await ItemRepository(session).add_all([row])
    return row


async def get_item(session: AsyncSession, *, principal: Principal, item_id: uuid.UUID) -> Item:
    principal.require_server()
    return await ItemRepository(session).get_or_raise(principal.tenant_id, item_id)


async def list_items(
    session: AsyncSession,
    *,
    principal: Principal,
    filters: ItemFilters,
    cursor: str | None,
    limit: int,
    known: Spellings | None = None,
) -> tuple[list[Item], str | None]:
    principal.require_server()
    repo = ItemRepository(session)
    filters = await canonical_filters(session, principal.tenant_id, filters, known)
    return await repo.page(repo.filtered(principal.tenant_id, filters), cursor=cursor, limit=limit)


async def canonical_filters(
    session: AsyncSession, tenant_id: uuid.UUID, filters: ItemFilters, known: Spellings | None
) -> ItemFilters:
    """The filters with their subject and topic as spelled in `known` or the bank."""
    if filters.subject is None:
        return filters
    subject, topic = await canonical_names(
        session, tenant_id, filters.subject, filters.topic, known or Spellings()
    )
    return replace(filters, subject=subject, topic=topic)


async def update_item(
    session: AsyncSession,
    *,
    principal: Principal,
    item_id: uuid.UUID,
    body: ItemUpdate,
    known: Spellings | None = None,
) -> Item:
    row = await get_item(session, principal=principal, item_id=item_id)
    if body.topic is not None:  # spelled as the subject's topic is known
        _, topic = await canonical_names(
            session, row.tenant_id, row.subject, body.topic, known or Spellings()
        )
        body = body.model_copy(update={"topic": topic})
    for name, value in body.model_dump(exclude_unset=True).items():
        if value is None and name != "solution":
            continue
        setattr(row, name, value.value if isinstance(value, ItemStatus) else value)
    if body.topic is not None or body.stem is not None:
        row.fingerprint = fingerprint(to_content(row))
    await session.flush()
    await ItemRepository(session).bump_bank_version(row.tenant_id)
    return row


async def retire_item(session: AsyncSession, *, principal: Principal, item_id: uuid.UUID) -> Item:
    return await update_item(
        session, principal=principal, item_id=item_id, body=ItemUpdate(status=ItemStatus.RETIRED)
    )


@dataclass(slots=True)
class ImportReport:
    imported: int = 0
    duplicates: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)


async def read_bank(document: object, keys: KeyReader) -> ParsedBank:
    """Parse a bank document, rejecting each row whose key the grader cannot read. Touches no
    database."""
    parsed = parse_bank(document)
    problems = await keys.problems([content for _, content in parsed.items])
    checked = list(zip(parsed.items, problems, strict=True))
    parsed.rejected += [
        RejectedRow.at(i, [f"answer: {p}"]) for (i, _), p in checked if p is not None
    ]
    parsed.items = [row for row, problem in checked if problem is None]
    parsed.rejected.sort(key=lambda r: r.index)
    return parsed


async def import_bank(
    session: AsyncSession, *, tenant_id: uuid.UUID, document: object
) -> ImportReport:
    """Load a bank document whose keys are known readable (the demo bank): its keys unread."""
    return await import_parsed(session, tenant_id=tenant_id, parsed=parse_bank(document))


async def import_parsed(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    parsed: ParsedBank,
    progress: ImportProgress | None = None,
    batch_size: int = 500,
    known: Spellings | None = None,
) -> ImportReport:
    """Load the parsed rows, skipping and counting invalid ones and those already in the bank."""
    report = ImportReport(rejected=list(parsed.rejected))
    repo = ItemRepository(session)
    total = len(parsed.items) + len(parsed.rejected)
    spellings = await bank_spellings(session, tenant_id, known or Spellings())
    for start in range(0, len(parsed.items), batch_size):
        batch = [
            to_row(tenant_id, _spelled(content, spellings))
            for _, content in parsed.items[start : start + batch_size]
        ]
        stored = await repo.existing_fingerprints(tenant_id, [r.fingerprint for r in batch])
        fresh: dict[str, Item] = {}  # the first of each fingerprint not in the bank yet
        for row in batch:
            if row.fingerprint not in stored:
                fresh.setdefault(row.fingerprint, row)
        report.duplicates += len(batch) - len(fresh)
        await repo.add_all(list(fresh.values()))
        report.imported += len(fresh)
        if progress is not None:
            progress(start + len(batch) + len(parsed.rejected), total)
    return report


def _spelled(content: ItemContent, spellings: Spellings) -> ItemContent:
    """`content` named as known; its names are known from then on."""
    named = _named(content, spellings.names(content.subject, content.topic))
    spellings.add(named.subject, named.topic)
    return named


async def export_bank(
    session: AsyncSession,
    *,
    principal: Principal,
    filters: ItemFilters,
    known: Spellings | None = None,
) -> list[ItemContent]:
    principal.require_server()
    filters = await canonical_filters(session, principal.tenant_id, filters, known)
    rows = await ItemRepository(session).list_all(principal.tenant_id, filters)
    return [to_content(r) for r in rows]
