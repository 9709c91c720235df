"""HTTP edge for the item bank: /api/v1/items."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, status

from practicegen.api.deps import ContainerDep, CursorDep, LimitDep, SessionDep
from practicegen.api.envelope import Envelope, Page, ok
from practicegen.auth.deps import BriefPrincipalDep, PrincipalDep
from practicegen.items import service
from practicegen.items.bank_format import ParsedBank, bank_document
from practicegen.items.deps import GeneratorSpellingsDep
from practicegen.items.keys import KeyReader, ReadableItem
from practicegen.items.repository import ItemFilters
from practicegen.items.schemas import ItemCreate, ItemRead, ItemSource, ItemStatus, ItemUpdate

router = APIRouter(prefix="/api/v1/items", tags=["items"])
_read = ItemRead.model_validate  # from an `Item` row


def item_filters(
    subject: Annotated[str | None, Query(max_length=100)] = None,
    topic: Annotated[str | None, Query(max_length=100)] = None,
    skill: Annotated[str | None, Query(max_length=100)] = None,
    source: ItemSource | None = None,
    status: ItemStatus | None = None,
    difficulty_min: Annotated[float | None, Query(ge=-6, le=6)] = None,
    difficulty_max: Annotated[float | None, Query(ge=-6, le=6)] = None,
) -> ItemFilters:
    return ItemFilters(
        subject=subject,
        topic=topic,
        skill=skill,
        source=source.value if source else None,
        status=status.value if status else None,
        difficulty_min=difficulty_min,
        difficulty_max=difficulty_max,
    )


FiltersDep = Annotated[ItemFilters, Depends(item_filters)]


async def get_key_reader(container: ContainerDep) -> KeyReader:
    return container.part(KeyReader)


KeyReaderDep = Annotated[KeyReader, Depends(get_key_reader)]

# Keys are read before the request takes a database connection, so none is held while waiting for
# the shared sympy processes: these dependencies authenticate briefly.


async def readable_item(
    body: ItemCreate, principal: BriefPrincipalDep, keys: KeyReaderDep
) -> ReadableItem:
    principal.require_server()
    return await keys.readable(body)


async def readable_bank(
    document: Annotated[dict[str, Any], Body(description="A practicegen-bank document.")],
    principal: BriefPrincipalDep,
    keys: KeyReaderDep,
) -> ParsedBank:
    principal.require_server()
    return await service.read_bank(document, keys)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_item(
    body: Annotated[ReadableItem, Depends(readable_item)],
    principal: BriefPrincipalDep,
    session: SessionDep,
    known: GeneratorSpellingsDep,
) -> Envelope[ItemRead]:
    """A `422 unreadable_answer_key` (naming `answer`) for a key the grader could not read. The
    subject and topic are stored as already spelled, ignoring case (`algebra` is `Algebra`)."""
    row = await service.create_item(session, principal=principal, body=body, known=known)
    return ok(_read(row))


@router.get("")
async def list_items(
    session: SessionDep,
    principal: PrincipalDep,
    limit: LimitDep,
    filters: FiltersDep,
    known: GeneratorSpellingsDep,
    cursor: CursorDep = None,
) -> Envelope[Page[ItemRead]]:
    """`subject` and `topic` match ignoring case."""
    rows, next_cursor = await service.list_items(
        session, principal=principal, filters=filters, cursor=cursor, limit=limit, known=known
    )
    return ok(Page(items=[_read(r) for r in rows], next_cursor=next_cursor))


@router.get("/export")
async def export_items(
    session: SessionDep, principal: PrincipalDep, filters: FiltersDep, known: GeneratorSpellingsDep
) -> dict[str, Any]:
    """The bank (or the filtered part of it) as a bank document, ready for import elsewhere."""
    items = await service.export_bank(session, principal=principal, filters=filters, known=known)
    return bank_document(items)


@router.post("/import")
async def import_items(
    parsed: Annotated[ParsedBank, Depends(readable_bank)],
    principal: BriefPrincipalDep,
    session: SessionDep,
    known: GeneratorSpellingsDep,
) -> Envelope[dict[str, Any]]:
    """Rows that fail validation or whose answer key cannot be read are rejected, each with
    its index (from 0), row (from 1) and reasons; the others load, their subjects and topics
    spelled as already known, ignoring case."""
    report = await service.import_parsed(
        session, tenant_id=principal.tenant_id, parsed=parsed, known=known
    )
    return ok(asdict(report))


@router.get("/{item_id}")
async def get_item(
    item_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Envelope[ItemRead]:
    return ok(_read(await service.get_item(session, principal=principal, item_id=item_id)))


@router.patch("/{item_id}")
async def update_item(
    item_id: uuid.UUID,
    body: ItemUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    known: GeneratorSpellingsDep,
) -> Envelope[ItemRead]:
    row = await service.update_item(
        session, principal=principal, item_id=item_id, body=body, known=known
    )
    return ok(_read(row))


@router.post("/{item_id}/retire")
async def retire_item(
    item_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Envelope[ItemRead]:
    return ok(_read(await service.retire_item(session, principal=principal, item_id=item_id)))
