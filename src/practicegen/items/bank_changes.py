"""Telling item caches that a tenant's bank changed, without them asking on every request.

A write to a tenant's set of items bumps the tenant's bank version in its transaction (`bump`);
on PostgreSQL the same statement sends `NOTIFY practicegen_bank, '<tenant id>'`, delivered at
the commit. The version is the sum of the tenant's rows in `bank_versions` (`version_of`), and
a bump adds one to a row picked at random: a bump locks its row until the commit, and on one
row every writer of the tenant's items (a burst of jobs storing what they generated) would
wait for the commits of all those before it. After the commit this process's candidate cache
drops the tenant's entries (SQLAlchemy's `after_commit` event), and every node's listener does
the same on the NOTIFY. A node whose listener is connected can therefore trust its cache
without reading the bank version per request; one whose listener is not (SQLite, a worker
process, a dropped connection) keeps reading it.
"""

from __future__ import annotations

import functools
import random
import uuid
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Executable, Select, bindparam, event, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from practicegen.db.models import BankVersion, core_table
from practicegen.db.upsert import upsert_in

BANK_CHANNEL = "practicegen_bank"
SHARDS = 16
_versions = core_table(BankVersion)
_CACHE = "practicegen.bank_cache"
_CHANGED = "practicegen.changed_banks"


class BankCache(Protocol):
    def invalidate(self, tenant_id: uuid.UUID) -> None: ...


def session_info(cache: BankCache) -> dict[str, object]:
    """The `info` a sessionmaker gives its sessions so their commits reach `cache`."""
    return {_CACHE: cache}


async def bump(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """Move `tenant_id`'s bank version in `session`'s transaction; caches hear of it once it
    commits."""
    dialect = session.get_bind().dialect.name
    row: dict[str, object] = {"tenant_id": tenant_id, "shard": random.randrange(SHARDS)}
    if dialect == "postgresql":
        row["payload"] = str(tenant_id)
    await session.execute(_bump_statement(dialect), row)
    changed: set[uuid.UUID] = session.info.setdefault(_CHANGED, set())
    changed.add(tenant_id)


@functools.cache
def _bump_statement(dialect: str) -> Executable:
    """One row's upsert, built once per dialect (every job that stores items runs it); on
    PostgreSQL the same statement sends the NOTIFY, a round trip less."""
    upsert = upsert_in(dialect, _versions).values(
        tenant_id=bindparam("tenant_id"), shard=bindparam("shard"), version=1
    )
    upsert = upsert.on_conflict_do_update(
        index_elements=[_versions.c.tenant_id, _versions.c.shard],
        set_={"version": _versions.c.version + 1},
    )
    if dialect == "postgresql":
        return upsert.returning(func.pg_notify(BANK_CHANNEL, bindparam("payload")))
    return upsert


def version_of(tenant_id: uuid.UUID | ColumnElement[uuid.UUID]) -> Select[Any]:
    """The bank version of `tenant_id` (0 before its first change), as a one-row query."""
    total = func.coalesce(func.sum(_versions.c.version), 0)
    return select(total).where(_versions.c.tenant_id == tenant_id)


@event.listens_for(Session, "after_commit")
def _invalidate_after_commit(session: Session) -> None:
    changed: set[uuid.UUID] = session.info.pop(_CHANGED, set())
    cache = session.info.get(_CACHE)
    if cache is not None:
        for tenant_id in changed:
            cache.invalidate(tenant_id)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)
