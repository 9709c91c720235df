"""Keyset pagination over (created_at, id): stable under inserts, cheap at any depth. A cursor
is an opaque URL-safe string naming the last row of the previous page."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from practicegen.db.models import TenantOwned
from practicegen.errors import InvalidRequest

K = TypeVar("K", bound=TenantOwned)


class InvalidCursor(InvalidRequest):
    code = "invalid_cursor"
    default_message = "The cursor is not one this service gave out."


def encode_cursor(row: TenantOwned) -> str:
    raw = f"{row.created_at.isoformat()}|{row.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, ident = raw.split("|")
        return datetime.fromisoformat(created), uuid.UUID(ident)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor(cursor=cursor) from exc


def after_cursor(
    query: Select[Any],
    created_at: InstrumentedAttribute[datetime],
    ident: InstrumentedAttribute[uuid.UUID],
    cursor: str | None,
    limit: int,
    *,
    newest_first: bool = False,
) -> Select[Any]:
    """Order by (created_at, id) either way, start after the cursor; one extra row tells more."""
    key = tuple_(created_at, ident)
    if cursor is not None:
        last = decode_cursor(cursor)
        query = query.where(key < last if newest_first else key > last)
    order = (created_at.desc(), ident.desc()) if newest_first else (created_at, ident)
    return query.order_by(*order).limit(limit + 1)


def split_page(rows: Sequence[K], limit: int) -> tuple[list[K], str | None]:
    """The page's rows and the cursor for the next page (None on the last page)."""
    page = list(rows[:limit])
    return page, (encode_cursor(page[-1]) if len(rows) > limit and page else None)
