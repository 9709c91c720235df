"""INSERT with ON CONFLICT clauses, which SQLAlchemy builds from each dialect's own `insert`."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session


def upsert(session: Session | AsyncSession, table: Any) -> postgresql.Insert | sqlite.Insert:
    """`insert(table)` of the dialect `session` is bound to, for an `on_conflict_*` clause."""
    return upsert_in(session.get_bind().dialect.name, table)


def upsert_in(dialect: str, table: Any) -> postgresql.Insert | sqlite.Insert:
    """`insert(table)` of the dialect named `dialect` (a statement built once, ahead of use)."""
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
