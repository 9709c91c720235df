"""The item bank's rules: create, read, list, update, retire, import and export."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from practicegen.auth.principal import Principal
from practicegen.db.models import Item
from practicegen.items.bank_format import ParsedBank, RejectedRow, parse_bank
from practicegen.items.fingerprint import fingerprint
from practicegen.items.keys import KeyReader, ReadableItem
from practicegen.items.repository import ItemFilters, ItemRepository
from practicegen.items.schemas import ItemContent, ItemStatus, ItemUpdate

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


async def create_item(session: AsyncSession, *, principal: Principal, body: ReadableItem) -> Item:
    """`body` is an item whose answer key was read (`items.keys.readable`)."""
    principal.require_server()
    row = to_row(principal.tenant_id, body)
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
) -> tuple[list[Item], str | None]:
    principal.require_server()
    repo = ItemRepository(session)
    query = repo.filtered(principal.tenant_id, filters)
    return await repo.page(query, cursor=cursor, limit=limit)


async def update_item(
    session: AsyncSession, *, principal: Principal, item_id: uuid.UUID, body: ItemUpdate
) -> Item:
    row = await get_item(session, principal=principal, item_id=item_id)
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


async def read_bank(document: object, keys: KeyReader | None) -> ParsedBank:
    """Parse a bank document and read every answer key as the grader will; a row whose key
    cannot be read is rejected. `keys` None only for a document whose keys are known readable
    (the demo bank, every key of which a test reads). Touches no database."""
    parsed = parse_bank(document)
    if keys is None:
        return parsed
    problems = await keys.problems([content for _, content in parsed.items])
    readable = []
    for (index, content), problem in zip(parsed.items, problems, strict=True):
        if problem is None:
            readable.append((index, content))
        else:
            parsed.rejected.append(RejectedRow.at(index, [f"answer: {problem}"]))
    parsed.items = readable
    parsed.rejected.sort(key=lambda r: r.index)
    return parsed


async def import_bank(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    document: object,
    keys: KeyReader | None = None,
    progress: ImportProgress | None = None,
    batch_size: int = 500,
) -> ImportReport:
    """Load a bank document (see `read_bank`, then `import_parsed`)."""
    parsed = await read_bank(document, keys)
    return await import_parsed(
        session, tenant_id=tenant_id, parsed=parsed, progress=progress, batch_size=batch_size
    )


async def import_parsed(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    parsed: ParsedBank,
    progress: ImportProgress | None = None,
    batch_size: int = 500,
) -> ImportReport:
    """Load the parsed rows; invalid rows and items already in the bank are skipped and counted."""
    report = ImportReport(rejected=list(parsed.rejected))
    repo = ItemRepository(session)
    total = len(parsed.items) + len(parsed.rejected)
    for start in range(0, len(parsed.items), batch_size):
        batch = [
            to_row(tenant_id, content) for _, content in parsed.items[start : start + batch_size]
        ]
        known = await repo.existing_fingerprints(tenant_id, [r.fingerprint for r in batch])
        fresh: dict[str, Item] = {}  # the first of each fingerprint not in the bank yet
        for row in batch:
            if row.fingerprint not in known:
                fresh.setdefault(row.fingerprint, row)
        report.duplicates += len(batch) - len(fresh)
        await repo.add_all(list(fresh.values()))
        report.imported += len(fresh)
        if progress is not None:
            progress(start + len(batch) + len(parsed.rejected), total)
    return report


async def export_bank(
    session: AsyncSession, *, principal: Principal, filters: ItemFilters
) -> list[ItemContent]:
    principal.require_server()
    rows = await ItemRepository(session).list_all(principal.tenant_id, filters)
    return [to_content(r) for r in rows]
